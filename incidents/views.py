"""The incident register's pages: report, list, the incident page with its
clock and timeline, triage, the two notification decisions, containment, and
the alerts. Every page needs a verified second factor (the one gate); who
sees what is in ``selectors``; every read and change is audited."""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from audit.services import audit_read, audit_record
from portal.forms import refusal_status

from . import selectors
from .audit_actions import IncidentAction
from .forms import ContainmentForm, DecisionForm, ReportForm, TriageForm
from .models import Containment, DecisionKind
from .people import may_handle
from .services import (
    IncidentRefused,
    Target,
    containment_choices,
    containment_take,
    decision_record,
    incident_from_alert,
    incident_report,
    incident_triage,
)

PER_PAGE = 25
# Address slugs for the two decisions and the four containment actions.
DECISION_SLUGS = {
    "ico": DecisionKind.ICO,
    "people-affected": DecisionKind.DATA_SUBJECTS,
}
CONTAINMENT_SLUGS = {
    "recall-files": Containment.RECALL_FILES,
    "end-case-access": Containment.END_CASE_SHARE,
    "deactivate-user": Containment.DEACTIVATE_USER,
    "reset-second-factor": Containment.RESET_SECOND_FACTOR,
}


def _refused(form, refusal: IncidentRefused) -> None:
    field = refusal.field if refusal.field in form.fields else None
    form.add_error(field, str(refusal))


def index(request):
    """Coordinators and the DPO: every incident; anyone else: their own."""
    incidents = selectors.incidents_listed_for(request.user)
    page = Paginator(incidents, PER_PAGE).get_page(request.GET.get("page"))
    audit_record(
        action=IncidentAction.LIST_VIEWED,
        request=request,
        detail={"page": page.number, "count": len(page)},
    )
    return render(
        request,
        "incidents/index.html",
        {
            "page": page,
            "handler": may_handle(request.user),
            "now": timezone.now(),
        },
    )


def _preselected(request) -> tuple[list[str], list[uuid.UUID]]:
    """?case=CM-2026-0001 and ?share=<id> from a case or share page's link."""
    cases = [c.strip().upper() for c in request.GET.getlist("case") if c.strip()]
    shares = []
    for value in request.GET.getlist("share"):
        try:
            shares.append(uuid.UUID(value))
        except ValueError:
            continue
    return cases[:5], shares[:5]


def report(request):
    """Anyone signed in reports a suspected data incident."""
    user = request.user
    case_refs, share_ids = _preselected(request)
    cases = selectors.recent_cases_for(user, also=case_refs)
    shares = selectors.recent_shares_for(user, also=share_ids)
    form = ReportForm(
        request.POST if request.method == "POST" else None,
        user=user,
        cases=cases,
        shares=shares,
        initial={
            "cases": [c for c in case_refs if any(r.reference == c for r in cases)],
            "files": [s for s in share_ids if any(x.public_id == s for x in shares)],
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = incident_report(
                user=user,
                what_happened=data["what_happened"],
                discovered_at=data["discovered_at"],
                happened_on=data.get("happened_on"),
                referrals=data["referrals"],
                shares=list(data.get("files") or []),
                request=request,
            )
        except IncidentRefused as refusal:
            _refused(form, refusal)
        else:
            messages.success(
                request,
                f"Incident {incident.reference} is reported. The coordinators "
                "and the data protection officer have been told.",
            )
            return redirect(incident)
    return render(
        request, "incidents/report.html", {"form": form}, status=refusal_status(form)
    )


def detail(request, reference):
    incident = selectors.incident_for(request.user, reference)
    audit_read(request, incident)
    return render(request, "incidents/detail.html", _detail_context(request, incident))


def _detail_context(request, incident) -> dict:
    now = timezone.now()
    handler = may_handle(request.user)
    return {
        "incident": incident,
        "handler": handler,
        "now": now,
        "time_left": incident.time_left(now),
        "overdue": incident.is_overdue(now),
        "ico_decision": incident.ico_decision(),
        "subjects_decision": incident.subjects_decision(),
        "decisions": list(incident.decisions.all()),
        "timeline": list(incident.timeline.all()),
        "containment_links": [
            (slug, action.label) for slug, action in CONTAINMENT_SLUGS.items()
        ]
        if handler
        else [],
    }


def triage(request, reference):
    incident = selectors.incident_to_handle(request.user, reference)
    form = TriageForm(
        request.POST if request.method == "POST" else None,
        initial={"severity": incident.severity, "status": incident.status},
    )
    if request.method == "POST" and form.is_valid():
        try:
            incident_triage(
                incident=incident,
                user=request.user,
                severity=form.cleaned_data["severity"],
                status=form.cleaned_data["status"],
                request=request,
            )
        except IncidentRefused as refusal:
            _refused(form, refusal)
        else:
            messages.success(request, f"{incident.reference} is updated.")
            return redirect(incident)
    audit_read(request, incident)
    return render(
        request,
        "incidents/triage.html",
        {"incident": incident, "form": form},
        status=refusal_status(form),
    )


def decision(request, reference, kind):
    incident = selectors.incident_to_handle(request.user, reference)
    decision_kind = DECISION_SLUGS.get(kind)
    if decision_kind is None:
        raise Http404("No such decision")
    form = DecisionForm(
        request.POST if request.method == "POST" else None, kind=decision_kind
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            decision_record(
                incident=incident,
                user=request.user,
                kind=decision_kind,
                decision=data["decision"],
                reasons=data["reasons"],
                ico_reference=data.get("ico_reference", ""),
                request=request,
            )
        except IncidentRefused as refusal:
            _refused(form, refusal)
        else:
            messages.success(
                request, f"The decision on {incident.reference} is recorded."
            )
            return redirect(incident)
    audit_read(request, incident)
    return render(
        request,
        "incidents/decision.html",
        {
            "incident": incident,
            "form": form,
            "kind": decision_kind,
            "is_ico": decision_kind == DecisionKind.ICO,
        },
        status=refusal_status(form),
    )


def contain(request, reference, action):
    incident = selectors.incident_to_handle(request.user, reference)
    containment = CONTAINMENT_SLUGS.get(action)
    if containment is None:
        raise Http404("No such action")
    choices = containment_choices(incident, containment)
    if containment == Containment.DEACTIVATE_USER:
        choices = choices.exclude(pk=request.user.pk)
    form = ContainmentForm(
        request.POST if request.method == "POST" else None,
        action=containment,
        choices=choices,
    )
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["target"]
        target = {
            Containment.RECALL_FILES: lambda: Target(file_share=chosen),
            Containment.END_CASE_SHARE: lambda: Target(case_share=chosen),
        }.get(containment, lambda: Target(person=chosen))()
        try:
            event = containment_take(
                incident=incident,
                user=request.user,
                action=containment,
                target=target,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except IncidentRefused as refusal:
            _refused(form, refusal)
        else:
            messages.success(request, f"{event.summary}.")
            return redirect(incident)
    audit_read(request, incident)
    return render(
        request,
        "incidents/contain.html",
        {
            "incident": incident,
            "form": form,
            "action": containment,
            "has_choices": choices.exists(),
        },
        status=refusal_status(form),
    )


def alerts(request):
    found = selectors.alerts_visible_to(request.user)
    if not may_handle(request.user):
        raise Http404("Only coordinators and the DPO see alerts")
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    audit_record(
        action=IncidentAction.ALERTS_LIST_VIEWED,
        request=request,
        detail={"page": page.number, "count": len(page)},
    )
    return render(request, "incidents/alerts.html", {"page": page})


def alert(request, alert_id):
    found = selectors.alert_for(request.user, alert_id)
    audit_record(action=IncidentAction.ALERT_VIEWED, request=request, obj=found)
    return render(request, "incidents/alert.html", {"alert": found})


@require_POST
def alert_to_incident(request, alert_id):
    found = selectors.alert_for(request.user, alert_id)
    incident = incident_from_alert(alert=found, user=request.user, request=request)
    messages.success(request, f"Incident {incident.reference} is open for this alert.")
    return redirect(incident)
