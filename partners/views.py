"""The withdrawal pages: the coordinators' list, the form with its
confirmation page, the report of each step, and the destruction certificate
its single point of contact opens from the emailed link.

Every page but the certificate needs a verified second factor (the one gate)
and the coordinator or administrator role; the certificate page is reached
by its one-time signed link alone, because the contact's account is
suspended with the rest of the organisation's (docs/security.md).
"""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Organisation
from audit.models import Outcome
from audit.services import audit_record
from portal.access import public
from portal.forms import refusal_status

from .audit_actions import WithdrawalAction
from .forms import CertificateForm, WithdrawalForm
from .models import Withdrawal
from .services import (
    CERTIFICATE_LINK_DAYS,
    WithdrawalRefused,
    certificate_confirm,
    certificate_send,
    may_withdraw,
    withdrawal_check,
    withdrawal_for_link,
    withdrawal_preview,
    withdrawal_record,
    withdrawal_run,
)

logger = logging.getLogger(__name__)


def _entitled(request) -> None:
    if not may_withdraw(request.user):
        raise PermissionDenied("Only coordinators and administrators withdraw partners")


def _withdrawal(request, pk: int) -> Withdrawal:
    _entitled(request)
    found = (
        Withdrawal.objects.select_related("organisation", "authorised_by", "contact")
        .filter(pk=pk)
        .first()
    )
    if found is None:
        raise Http404("No such withdrawal")
    return found


def _refused(form, refusal: WithdrawalRefused) -> None:
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, str(refusal))


def index(request):
    _entitled(request)
    withdrawals = list(Withdrawal.objects.select_related("organisation"))
    audit_record(
        action=WithdrawalAction.LIST_VIEWED,
        request=request,
        detail={"count": len(withdrawals)},
    )
    return render(request, "partners/index.html", {"withdrawals": withdrawals})


def new(request):
    """The form; a valid post shows the confirmation page (with what was
    typed carried in hidden fields), and a post from that page withdraws."""
    _entitled(request)
    organisations = Organisation.objects.taking_part().exclude(
        pk=request.user.organisation_id
    )
    form = WithdrawalForm(
        request.POST if request.method == "POST" else None,
        organisations=organisations,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        answers = {
            "organisation": data["organisation"],
            "withdrawn_on": data["withdrawn_on"],
            "reason": data["reason"],
            "user": request.user,
        }
        try:
            if request.POST.get("confirmed") == "yes":
                withdrawal = withdrawal_record(**answers, request=request)
            else:
                withdrawal_check(**answers)
        except WithdrawalRefused as refusal:
            _refused(form, refusal)
        else:
            if request.POST.get("confirmed") != "yes":
                return render(
                    request,
                    "partners/confirm.html",
                    {
                        "form": form,
                        "organisation": data["organisation"],
                        "preview": withdrawal_preview(data["organisation"]),
                        "days": CERTIFICATE_LINK_DAYS,
                    },
                )
            return _run(request, withdrawal)
    return render(
        request, "partners/new.html", {"form": form}, status=refusal_status(form)
    )


def _run(request, withdrawal: Withdrawal):
    try:
        withdrawal_run(withdrawal=withdrawal, request=request)
    except Exception:
        # Each step done so far is logged; running again finishes the rest.
        logger.exception("Withdrawal %s stopped part way", withdrawal.pk)
        messages.warning(
            request,
            "The withdrawal stopped before every step was done. Run the "
            "remaining steps again.",
        )
    else:
        messages.success(request, f"{withdrawal.organisation} has been withdrawn.")
    return redirect(withdrawal)


def report(request, pk):
    withdrawal = _withdrawal(request, pk)
    audit_record(
        action=WithdrawalAction.REPORT_VIEWED,
        request=request,
        obj=withdrawal,
        detail={"organisation": withdrawal.organisation_id},
    )
    return render(request, "partners/report.html", {"withdrawal": withdrawal})


@require_POST
def run(request, pk):
    return _run(request, _withdrawal(request, pk))


@require_POST
def resend(request, pk):
    withdrawal = _withdrawal(request, pk)
    if certificate_send(withdrawal=withdrawal, request=request):
        messages.success(
            request,
            "A new link has been emailed to the single point of contact. "
            "Earlier links no longer work.",
        )
    else:
        messages.warning(request, "There is nobody to send the link to.")
    return redirect(withdrawal)


@public
def certificate(request, token):
    """The destruction certificate, for whoever holds the emailed link."""
    withdrawal = withdrawal_for_link(token)
    if withdrawal is None:
        # Expired, replaced, used, or never ours: the same page for each.
        audit_record(
            action=WithdrawalAction.CERTIFICATE_LINK_REFUSED,
            request=request,
            outcome=Outcome.DENIED,
        )
        return render(request, "partners/certificate_refused.html", status=404)
    form = CertificateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            withdrawal = certificate_confirm(
                withdrawal=withdrawal,
                name=form.cleaned_data["name"],
                role=form.cleaned_data["role"],
                request=request,
            )
        except WithdrawalRefused as refusal:
            _refused(form, refusal)
        else:
            return render(
                request, "partners/certificate_done.html", {"withdrawal": withdrawal}
            )
    if request.method == "GET":
        audit_record(
            action=WithdrawalAction.CERTIFICATE_VIEWED,
            request=request,
            actor=withdrawal.contact,
            obj=withdrawal,
            detail={"organisation": withdrawal.organisation_id},
        )
    return render(
        request,
        "partners/certificate.html",
        {"withdrawal": withdrawal, "form": form},
        status=refusal_status(form),
    )
