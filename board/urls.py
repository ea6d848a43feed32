from django.urls import path

from . import views

app_name = "board"

urlpatterns = [
    path("", views.index, name="index"),
    path("reports/", views.reports, name="reports"),
    path("reports/build/", views.report_request, name="report_request"),
    path("reports/<uuid:public_id>/", views.report_download, name="report_download"),
]
