from django.urls import path

from . import views

app_name = "partners"

urlpatterns = [
    path("", views.index, name="index"),
    path("withdraw/", views.new, name="new"),
    path("certificate/<str:token>/", views.certificate, name="certificate"),
    path("<int:pk>/", views.report, name="report"),
    path("<int:pk>/run/", views.run, name="run"),
    path("<int:pk>/resend/", views.resend, name="resend"),
]
