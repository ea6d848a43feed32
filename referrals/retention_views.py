"""Retention for coordinators: cases due for disposal, legal holds, cases to
close, and tombstones (``referrals.retention``). Coordinators only: anyone
else gets 404, as for the other coordinator pages of a case."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from audit.audit_actions import AuditAction
from audit.services import audit_record
from portal.forms import refusal_status

from . import selectors
from .models import LegalHold, Tombstone
from .retention import (
    RetentionRefused,
    disposal_review,
    last_retention_run,
    legal_hold_place,
    legal_hold_remove,
    legal_holds_standing,
    referrals_inactive,
    retention_sections_for,
    retention_stale,
)
from .retention_forms import LegalHoldForm, LegalHoldRemoveForm

TOMBSTONES_SHOWN = 50


def _coordinators_only(request) -> None:
    if not selectors.may_screen(request.user):
        raise Http404("Only coordinators see retention")


def retention(request):
    _coordinators_only(request)
    schedule, due = disposal_review()
    holds = list(legal_holds_standing())
    inactive = list(referrals_inactive())
    tombstones = list(Tombstone.objects.all()[:TOMBSTONES_SHOWN])
    # Shared files and meetings, each from its own app (referrals import
    # neither): what they destroy next and what they have destroyed.
    sections = retention_sections_for(schedule, timezone.localdate())
    # One event for the page: it lists case references, nothing more.
    audit_record(
        action=AuditAction.READ,
        request=request,
        detail={
            "page": "retention",
            "references": sorted(
                {c.referral.reference for c in due}
                | {h.referral.reference for h in holds}
                | {r.reference for r in inactive}
                | {ref for section in sections for ref in section.references}
            ),
        },
    )
    return render(
        request,
        "referrals/retention.html",
        {
            "schedule": schedule,
            "due": due,
            "holds": holds,
            "inactive": inactive,
            "tombstones": tombstones,
            "sections": sections,
            "last_run": last_retention_run(),
            "stale": retention_stale(),
        },
    )


def hold_place(request, reference):
    _coordinators_only(request)
    referral = selectors.referral_for(request.user, reference)
    form = LegalHoldForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            legal_hold_place(
                referral=referral,
                user=request.user,
                reason=form.cleaned_data["reason"],
                review_date=form.cleaned_data["review_date"],
                request=request,
            )
        except RetentionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"{referral.reference} is on legal hold: it will be kept."
            )
            return redirect(reverse("referrals:retention") + "#holds")
    audit_record(action=AuditAction.READ, request=request, obj=referral,
                 detail={"page": "legal_hold"})  # fmt: skip
    return render(
        request,
        "referrals/legal_hold.html",
        {"referral": referral, "form": form},
        status=refusal_status(form),
    )


def hold_remove(request, hold_id):
    _coordinators_only(request)
    hold = get_object_or_404(
        LegalHold.objects.select_related("referral", "placed_by"),
        pk=hold_id,
        removed_at__isnull=True,
    )
    form = LegalHoldRemoveForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            legal_hold_remove(
                hold=hold,
                user=request.user,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except RetentionRefused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"The legal hold on {hold.referral.reference} is removed: the case "
                "is disposed of when its retention period has ended.",
            )
            return redirect(reverse("referrals:retention") + "#holds")
    audit_record(action=AuditAction.READ, request=request, obj=hold.referral,
                 detail={"page": "legal_hold_remove", "hold": hold.pk})  # fmt: skip
    return render(
        request,
        "referrals/legal_hold_remove.html",
        {"hold": hold, "form": form},
        status=refusal_status(form),
    )
