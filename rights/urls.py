"""The data protection officer's screens, under /rights/."""

from django.urls import path

from . import views

app_name = "rights"

urlpatterns = [
    path("", views.home, name="home"),
    path("people/", views.people, name="people"),
    path("records/<slug:kind>/<int:record_id>/", views.record, name="record"),
]
