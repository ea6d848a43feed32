from django.urls import path

from . import views

app_name = "documents"

urlpatterns = [
    path("", views.index, name="index"),
    path("share/", views.new, name="new"),
    path("<uuid:share_id>/", views.share, name="share"),
    path("<uuid:share_id>/expiry/", views.shorten, name="shorten"),
    path("<uuid:share_id>/recall/", views.recall, name="recall"),
    path(
        "<uuid:share_id>/<uuid:file_id>/download/",
        views.download,
        name="download",
    ),
]
