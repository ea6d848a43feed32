"""Mounted at ``admin/`` ahead of the Wagtail admin by portal.urls: Wagtail's
own sign-in and sign-out would bypass our second factor."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.admin_login_redirect),
    path("logout/", views.sign_out),
]
