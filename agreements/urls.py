from django.urls import path

from . import views

app_name = "agreements"

urlpatterns = [
    path(
        "versions/<int:version_id>/acknowledge/", views.acknowledge, name="acknowledge"
    ),
    path("versions/<int:version_id>/changes/", views.version_changes, name="changes"),
    path("versions/<int:version_id>/pdf/", views.agreement_pdf, name="pdf"),
    path("receipts/verify/", views.verify_receipt, name="verify_receipt"),
    path("receipts/<int:acknowledgement_id>/", views.receipt, name="receipt"),
    path(
        "receipts/<int:acknowledgement_id>/pdf/", views.receipt_pdf, name="receipt_pdf"
    ),
]
