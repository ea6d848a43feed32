from django.urls import path

from . import views

app_name = "notices"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:notice_id>/", views.open_notice, name="open"),
    path("read/", views.mark_all_read, name="mark_all_read"),
    path("email/", views.email_choices, name="email_choices"),
]
