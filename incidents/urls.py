from django.urls import path

from . import views

app_name = "incidents"

urlpatterns = [
    path("", views.index, name="index"),
    # Before "<reference>/", which would otherwise take them.
    path("report/", views.report, name="report"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/", views.alert, name="alert"),
    path(
        "alerts/<int:alert_id>/incident/",
        views.alert_to_incident,
        name="alert_to_incident",
    ),
    path("<str:reference>/", views.detail, name="detail"),
    path("<str:reference>/triage/", views.triage, name="triage"),
    path("<str:reference>/decisions/<slug:kind>/", views.decision, name="decision"),
    path("<str:reference>/contain/<slug:action>/", views.contain, name="contain"),
]
