"""Acknowledging a version, receipts, their verification, and PDFs."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from wagtail.models import Page

from accounts.models import Role
from audit.services import audit_read, audit_record
from portal.dates import long_datetime
from portal.forms import refusal_status
from portal.pdf import render_pdf

from .audit_actions import AgreementAction
from .forms import AcknowledgementForm, ReceiptLookupForm
from .models import Acknowledgement, AgreementVersion
from .selectors import coverage, organisation_status, previous_version, version_diff
from .services import (
    AcknowledgementRefused,
    acknowledgement_check,
    acknowledgement_record,
)


def _page_url(version) -> str:
    return Page.objects.get(pk=version.page_id).url


def acknowledge(request, version_id):
    version = get_object_or_404(AgreementVersion, pk=version_id)
    organisation = request.user.organisation
    status = organisation_status(version.current, organisation)
    if status is not None and status.acknowledgement is not None:
        return _already_acknowledged(request, status.acknowledgement)
    initial = {
        "signatory_name": request.user.get_full_name(),
        "signatory_role": request.user.job_title,
    }
    form = AcknowledgementForm(request.POST or None, initial=initial)
    refusal = None
    if request.method == "POST" and form.is_valid():
        try:
            acknowledgement, created = acknowledgement_record(
                request=request,
                version=version,
                organisation=organisation,
                signatory_name=form.cleaned_data["signatory_name"],
                signatory_role=form.cleaned_data["signatory_role"],
            )
        except AcknowledgementRefused as exc:
            refusal = str(exc)
        else:
            if not created:
                return _already_acknowledged(request, acknowledgement)
            messages.success(
                request, "Your organisation's acknowledgement is recorded."
            )
            return redirect("agreements:receipt", acknowledgement.pk)
    elif request.method == "GET":
        try:
            acknowledgement_check(request.user, version, organisation)
        except AcknowledgementRefused as exc:
            refusal = str(exc)
    return render(
        request,
        "agreements/acknowledge.html",
        {
            "version": version,
            "form": form,
            "refusal": refusal,
            "agreement_url": _page_url(version),
        },
        # Refused as a matter of standing (not a signatory): 403; a form to
        # put right: 400, with the errors by their fields.
        status=403 if refusal else refusal_status(form),
    )


def _already_acknowledged(request, acknowledgement):
    messages.info(
        request,
        f"{acknowledgement.signatory_name} already acknowledged version "
        f"{acknowledgement.version.number} for {acknowledgement.organisation_name} on "
        f"{long_datetime(acknowledgement.acknowledged_at)}.",
    )
    return redirect("agreements:receipt", acknowledgement.pk)


def _receipt_for(request, acknowledgement_id) -> Acknowledgement:
    """Receipts are for the acknowledging organisation and coordinators only."""
    acknowledgement = get_object_or_404(
        Acknowledgement.objects.select_related("version"), pk=acknowledgement_id
    )
    user = request.user
    if not (
        user.organisation_id == acknowledgement.organisation_id
        or user.has_role(Role.COORDINATOR)
        or user.is_superuser
    ):
        raise Http404("No such receipt")
    return acknowledgement


def receipt(request, acknowledgement_id):
    acknowledgement = _receipt_for(request, acknowledgement_id)
    audit_read(request, acknowledgement)
    return render(
        request,
        "agreements/receipt.html",
        {"ack": acknowledgement, "agreement_url": _page_url(acknowledgement.version)},
    )


def receipt_pdf(request, acknowledgement_id):
    acknowledgement = _receipt_for(request, acknowledgement_id)
    pdf = render_pdf(
        "agreements/pdf/receipt.html",
        {"ack": acknowledgement, "title": "Acknowledgement receipt"},
    )
    audit_record(
        action=AgreementAction.RECEIPT_DOWNLOADED, request=request, obj=acknowledgement
    )
    return _pdf_response(
        pdf,
        f"receipt-{acknowledgement.version.reference}-v{acknowledgement.version.number}",
    )


def agreement_pdf(request, version_id):
    version = get_object_or_404(AgreementVersion, pk=version_id)
    rows, percent = coverage(version)
    pdf = render_pdf(
        "agreements/pdf/agreement.html",
        {
            "version": version,
            "rows": rows,
            "percent": percent,
            "title": f"{version.title}, version {version.number}",
        },
    )
    audit_record(action=AgreementAction.PDF_DOWNLOADED, request=request, obj=version)
    return _pdf_response(pdf, f"{version.reference}-v{version.number}")


def _pdf_response(pdf: bytes, name: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{slugify(name)}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def verify_receipt(request):
    form = ReceiptLookupForm(request.GET or None)
    result = None
    if request.GET and form.is_valid():
        result = form.acknowledgement()
        audit_record(
            action=AgreementAction.RECEIPT_VERIFIED,
            request=request,
            obj=result,
            outcome="success" if result else "failure",
        )
    return render(
        request,
        "agreements/verify_receipt.html",
        {
            "form": form,
            "checked": bool(request.GET) and form.is_valid(),
            "result": result,
        },
        # A number that is not a receipt number is the asker's error: 400
        # (RFC 9110, 15.5.1), the form again with it, as for every refusal.
        # One that is well formed was looked up, found or not: 200.
        status=refusal_status(form),
    )


def version_changes(request, version_id):
    version = get_object_or_404(AgreementVersion, pk=version_id)
    previous = previous_version(version)
    return render(
        request,
        "agreements/changes.html",
        {
            "version": version,
            "previous": previous,
            "changes": version_diff(previous, version),
            "agreement_url": _page_url(version),
        },
    )
