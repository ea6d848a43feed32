"""The data protection officer's screens, under /rights/."""

from django.urls import path

from . import views

app_name = "rights"

urlpatterns = [
    path("", views.home, name="home"),
    path("people/", views.people, name="people"),
    path("records/<slug:kind>/<int:record_id>/", views.record, name="record"),
    path("access-requests/", views.sars, name="sars"),
    path("access-requests/new/", views.sar_new, name="sar_new"),
    path("access-requests/<int:sar_id>/", views.sar, name="sar"),
    path("access-requests/<int:sar_id>/identity/", views.sar_identity,
         name="sar_identity"),
    path("access-requests/<int:sar_id>/extend/", views.sar_extension,
         name="sar_extend"),
    path("access-requests/<int:sar_id>/status/", views.sar_status,
         name="sar_status"),
    path("access-requests/<int:sar_id>/search/", views.sar_search,
         name="sar_search"),
    path("access-requests/<int:sar_id>/items/<int:item_id>/", views.sar_item,
         name="sar_item"),
    path("access-requests/<int:sar_id>/bundle/", views.sar_bundle,
         name="sar_bundle"),
    path("access-requests/<int:sar_id>/bundles/<uuid:public_id>/<slug:fmt>/",
         views.sar_bundle_download, name="sar_bundle_download"),
    path("objections-and-erasure/", views.rights_requests, name="requests"),
    path("objections-and-erasure/new/", views.rights_request_new,
         name="request_new"),
    path("objections-and-erasure/<int:request_id>/", views.rights_request,
         name="request"),
]  # fmt: skip
