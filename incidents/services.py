"""Business rules for incidents: reporting, triage, the notification
decisions, containment through the other apps' own services, and the
72-hour clock's reminders. Every change is audited and put on the incident's
timeline; emails carry a reference and a link, never personal data.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import SuspensionReason, User
from accounts.services import devices_remove, user_suspend
from audit.services import audit_record
from documents.models import Share
from documents.services import ShareRefused, share_recall
from jobs.mail import email_queue
from portal.dates import long_datetime
from referrals.models import ReferralShare
from referrals.services import ReferralRefused, referral_share_end

from .audit_actions import IncidentAction
from .models import (
    ICO_DEADLINE,
    Containment,
    Decision,
    DecisionKind,
    EventKind,
    Incident,
    IncidentCase,
    IncidentEvent,
    IncidentFile,
    NotificationDecision,
    Severity,
    Status,
)
from .people import handlers_to_email, may_handle


class IncidentRefused(Exception):
    """The change cannot be made; the message says why, for the form."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _handler_only(user: User) -> None:
    if not may_handle(user):
        raise IncidentRefused("Only coordinators and the DPO can do this.")


def _event(incident, kind, summary, actor=None, **links) -> IncidentEvent:
    event = IncidentEvent(
        incident=incident, kind=kind, summary=summary[:500], actor=actor, **links
    )
    event.full_clean()
    event.save()
    return event


def _link(incident: Incident) -> str:
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + incident.get_absolute_url()


def _email_handlers(incident: Incident, event: str, subject: str, lines) -> int:
    """One email per handler about ``event``, with the reference and a link
    only (docs/features.md, "Incidents": no personal data in email)."""
    body = "\n\n".join([*lines, f"Open it in the portal: {_link(incident)}"]) + "\n"
    sent = 0
    for person in handlers_to_email():
        sent += email_queue(
            event=f"incident:{incident.pk}:{event}",
            to=person.email,
            subject=subject,
            body=body,
        )
    return sent


def _new_number(year: int) -> int:
    latest = Incident.objects.filter(year=year).aggregate(Max("number"))["number__max"]
    return (latest or 0) + 1


@transaction.atomic
def incident_report(
    *, user: User, what_happened: str, discovered_at: datetime,
    happened_on=None, referrals=(), shares=(), request: HttpRequest | None = None,
) -> Incident:  # fmt: skip
    """Record a suspected incident and tell the handlers.

    ``referrals`` and ``shares`` must be ones ``user`` may see now (the form
    offers only those; checked again here: deny by default).
    """
    from .selectors import cases_reportable_by, shares_reportable_by

    now = timezone.now()
    if discovered_at > now:
        raise IncidentRefused(
            "The date it was discovered must be today or in the past",
            field="discovered_on",
        )
    referral_ids = {r.pk for r in referrals}
    if len(cases_reportable_by(user).filter(pk__in=referral_ids)) != len(referral_ids):
        raise IncidentRefused("You can only name cases you can see", field="cases")
    share_ids = {s.pk for s in shares}
    if shares_reportable_by(user).filter(pk__in=share_ids).count() != len(share_ids):
        raise IncidentRefused(
            "You can only name shared files you can see", field="files"
        )
    year = timezone.localdate(now).year
    for _attempt in range(5):
        number = _new_number(year)
        incident = Incident(
            year=year,
            number=number,
            reference=f"INC-{year}-{number:04d}",
            reported_by=user,
            organisation=user.organisation,
            reported_at=now,
            what_happened=what_happened.strip(),
            happened_on=happened_on,
            discovered_at=discovered_at,
        )
        incident.full_clean()
        try:
            with transaction.atomic():
                incident.save()
        except IntegrityError:  # another report took the number: try the next
            continue
        break
    else:
        raise IncidentRefused("The incident could not be numbered: try again.")
    for referral in sorted(referrals, key=lambda r: r.reference):
        IncidentCase.objects.create(
            incident=incident, referral=referral, reference=referral.reference
        )
    for share in shares:
        IncidentFile.objects.create(
            incident=incident, share=share, label=share_label(share)
        )
    _event(incident, EventKind.REPORTED, "Reported", actor=user)
    audit_record(
        action=IncidentAction.REPORTED,
        request=request,
        actor=user,
        obj=incident,
        detail={
            "reference": incident.reference,
            "references": [r.reference for r in referrals],
            "count": len(share_ids),
        },
    )
    _email_handlers(
        incident,
        "reported",
        f"Suspected data incident {incident.reference} reported",
        [
            f"A suspected data incident, {incident.reference}, has been reported "
            "in the CMARAC partner portal.",
            "The deadline for deciding whether to tell the ICO is "
            f"{long_datetime(incident.ico_deadline)} (72 hours from discovery).",
        ],
    )
    return incident


def share_label(share: Share) -> str:
    names = ", ".join(f.display_name for f in share.files.all())
    return f"{share}: {names}"[:300] if names else str(share)[:300]


@transaction.atomic
def incident_triage(
    *, incident: Incident, user: User, severity: str, status: str,
    request: HttpRequest | None = None,
) -> Incident:  # fmt: skip
    """Set the severity and status. Closing needs both decisions recorded."""
    _handler_only(user)
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if severity not in Severity.values:
        raise IncidentRefused("Select how severe the incident is", field="severity")
    if status not in Status.values:
        raise IncidentRefused("Select the incident's status", field="status")
    if status == Status.CLOSED and not _both_decided(locked):
        raise IncidentRefused(
            "Record the decisions on telling the ICO and the people affected "
            "before closing the incident",
            field="status",
        )
    changed = {}
    if locked.severity != severity:
        changed["severity"] = (locked.severity, severity)
        _event(
            locked, EventKind.TRIAGED,
            f"Severity set to {Severity(severity).label.lower()}", actor=user,
        )  # fmt: skip
    if locked.status != status:
        changed["status"] = (locked.status, status)
        _event(
            locked, EventKind.STATUS,
            f"Status changed to {Status(status).label.lower()}", actor=user,
        )  # fmt: skip
    if not changed:
        return locked
    locked.severity, locked.status = severity, status
    locked.full_clean()
    locked.save(update_fields=["severity", "status"])
    audit_record(
        action=IncidentAction.TRIAGED,
        request=request,
        actor=user,
        obj=locked,
        detail={
            "reference": locked.reference,
            "fields": sorted(changed),
            "from": {k: v[0] for k, v in changed.items()},
            "to": {k: v[1] for k, v in changed.items()},
        },
    )
    return locked


def _both_decided(incident: Incident) -> bool:
    kinds = set(incident.decisions.values_list("kind", flat=True))
    return kinds == set(DecisionKind.values)


@transaction.atomic
def decision_record(
    *, incident: Incident, user: User, kind: str, decision: str, reasons: str,
    ico_reference: str = "", request: HttpRequest | None = None,
) -> NotificationDecision:  # fmt: skip
    """Record whether the ICO, or the people affected, are to be told, and why.
    The ICO decision stops the 72-hour clock."""
    _handler_only(user)
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    reasons = reasons.strip()
    if not reasons:
        raise IncidentRefused("Enter the reasons for the decision", field="reasons")
    if kind != DecisionKind.ICO:
        ico_reference = ""
    row = NotificationDecision(
        incident=locked,
        kind=kind,
        decision=decision,
        reasons=reasons,
        ico_reference=ico_reference.strip(),
        decided_by=user,
    )
    row.full_clean()
    row.save()
    what = "to tell" if decision == Decision.NOTIFY else "not to tell"
    who = "the ICO" if kind == DecisionKind.ICO else "the people affected"
    summary = f"Decided {what} {who}"
    if row.ico_reference:
        summary += f" (ICO reference {row.ico_reference})"
    _event(locked, EventKind.DECISION, summary, actor=user)
    audit_record(
        action=IncidentAction.DECISION_RECORDED,
        request=request,
        actor=user,
        obj=locked,
        detail={"reference": locked.reference, "kind": kind, "to": decision},
    )
    return row


@dataclass(frozen=True)
class Target:
    """What a containment action acts on."""

    file_share: Share | None = None
    case_share: ReferralShare | None = None
    person: User | None = None


@transaction.atomic
def containment_take(
    *, incident: Incident, user: User, action: str, target: Target, reason: str,
    request: HttpRequest | None = None,
) -> IncidentEvent:  # fmt: skip
    """Take one containment action through the service that owns the rule,
    and put it on the incident's timeline; each is audited twice, by that
    service and here, linking it to the incident."""
    _handler_only(user)
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    reason = reason.strip()
    if not reason:
        raise IncidentRefused("Enter why you are taking this action", field="reason")
    why = f"Incident {locked.reference}: {reason}"
    links: dict = {}
    try:
        if action == Containment.RECALL_FILES:
            share = _needs(target.file_share, "Select the files to recall", "target")
            share_recall(share=share, user=user, reason=why[:500], request=request)
            links = {"file_share": share}
            summary = f"Recalled {share_label(share)}"
            target_id = str(share.public_id)
        elif action == Containment.END_CASE_SHARE:
            share = _needs(target.case_share, "Select the access to end", "target")
            referral_share_end(share=share, reason=why, user=user, request=request)
            links = {"case_share": share}
            summary = (
                f"Ended {share.organisation}'s access to {share.referral.reference}"
            )
            target_id = str(share.pk)
        elif action == Containment.DEACTIVATE_USER:
            person = _needs(target.person, "Select the person", "target")
            if person.pk == user.pk:
                raise IncidentRefused("You cannot deactivate yourself", field="target")
            user_suspend(
                user=person,
                reason=SuspensionReason.INCIDENT,
                note=f"Incident {locked.reference}",
            )
            links = {"person": person}
            summary = f"Deactivated {person.name_with_organisation}"
            target_id = str(person.pk)
        elif action == Containment.RESET_SECOND_FACTOR:
            person = _needs(target.person, "Select the person", "target")
            devices_remove(user=person, request=request)
            links = {"person": person}
            summary = (
                f"Reset the second factor of {person.name_with_organisation}: "
                "they set it up again at their next sign-in"
            )
            target_id = str(person.pk)
        else:
            raise IncidentRefused("Select a containment action", field="target")
    except (ShareRefused, ReferralRefused) as refusal:
        raise IncidentRefused(str(refusal), field="target") from refusal
    event = _event(
        locked, EventKind.CONTAINMENT, summary, actor=user, containment=action, **links
    )
    audit_record(
        action=IncidentAction.CONTAINMENT_TAKEN,
        request=request,
        actor=user,
        obj=locked,
        detail={"reference": locked.reference, "kind": action, "target": target_id},
    )
    return event


def _needs(value, message: str, field: str):
    if value is None:
        raise IncidentRefused(message, field=field)
    return value


def containment_choices(incident: Incident, action: str):
    """What each containment action may act on, from this incident's cases
    and files (recall and ending access) or any active account."""
    now = timezone.now()
    if action == Containment.RECALL_FILES:
        referral_ids = incident.cases.exclude(referral=None).values("referral_id")
        linked = incident.files.exclude(share=None).values("share_id")
        return (
            Share.objects.filter(recalled_at__isnull=True, expires_at__gt=now)
            .filter(Q(pk__in=linked) | Q(referral_id__in=referral_ids))
            .select_related("sender_organisation")
            .prefetch_related("files")
        )
    if action == Containment.END_CASE_SHARE:
        referral_ids = incident.cases.exclude(referral=None).values("referral_id")
        return (
            ReferralShare.objects.in_force()
            .filter(referral_id__in=referral_ids)
            .select_related("referral", "organisation")
            .order_by("referral__reference", "organisation__name")
        )
    if action == Containment.DEACTIVATE_USER:
        return User.objects.filter(is_active=True, is_superuser=False).select_related(
            "organisation"
        )
    if action == Containment.RESET_SECOND_FACTOR:
        return User.objects.filter(is_superuser=False).select_related("organisation")
    return User.objects.none()


def clock_reminders_send(*, now: datetime | None = None) -> dict[str, int]:
    """Remind the handlers when 24 hours are left to decide on telling the
    ICO, and again once the 72 hours have passed. Each is claimed with one
    update, so a rerun or two runs at once send nothing twice."""
    now = now or timezone.now()
    counts = {"reminded": 0, "overdue": 0}
    hours_left = timedelta(hours=settings.INCIDENT_REMINDER_HOURS_LEFT)
    running = Incident.objects.exclude(decisions__kind=DecisionKind.ICO).exclude(
        status=Status.CLOSED
    )
    # Overdue first: an incident reported late gets the overdue email only.
    overdue = running.filter(
        overdue_at__isnull=True, discovered_at__lt=now - ICO_DEADLINE
    )
    for incident in overdue:
        counts["overdue"] += _remind(incident, now, overdue=True)
    due_soon = running.filter(
        reminded_at__isnull=True,
        overdue_at__isnull=True,
        discovered_at__lte=now - (ICO_DEADLINE - hours_left),
    )
    for incident in due_soon:
        counts["reminded"] += _remind(incident, now, overdue=False)
    return counts


@transaction.atomic
def _remind(incident: Incident, now: datetime, *, overdue: bool) -> int:
    field = "overdue_at" if overdue else "reminded_at"
    claimed = Incident.objects.filter(
        pk=incident.pk, **{f"{field}__isnull": True}
    ).update(**{field: now})
    if not claimed:
        return 0
    deadline = long_datetime(incident.ico_deadline)
    reference = incident.reference
    if overdue:
        kind, action, event = (
            EventKind.OVERDUE,
            IncidentAction.DEADLINE_PASSED,
            "overdue",
        )
        subject = f"Overdue: decide whether to tell the ICO about {reference}"
        line = (
            f"The 72 hours to decide whether to tell the ICO about {reference} "
            f"ended at {deadline}. Record the decision, and the reasons for any "
            "delay, now."
        )
        summary = "72 hours passed with no decision on telling the ICO: emailed"
    else:
        kind, action, event = (
            EventKind.REMINDER,
            IncidentAction.DEADLINE_REMINDED,
            "reminder",
        )
        hours = settings.INCIDENT_REMINDER_HOURS_LEFT
        subject = f"{hours} hours left to decide on telling the ICO about {reference}"
        line = (
            f"The decision on telling the ICO about {reference} is due by {deadline}."
        )
        summary = f"{hours} hours left to decide on telling the ICO: emailed"
    _event(incident, kind, summary)
    _email_handlers(incident, event, subject, [line])
    audit_record(
        action=action,
        obj=incident,
        detail={
            "reference": incident.reference,
            "due": incident.ico_deadline.isoformat(),
        },
    )
    return 1


@transaction.atomic
def incident_from_alert(
    *, alert, user: User, request: HttpRequest | None = None
) -> Incident:
    """Open an incident from an alert, once: a second click finds the first."""
    from .models import Alert

    _handler_only(user)
    locked = Alert.objects.select_for_update().get(pk=alert.pk)
    if locked.incident_id is not None:
        return locked.incident
    incident = incident_report(
        user=user,
        what_happened=(
            f"Opened from unusual activity alert {locked.reference}: "
            f"{locked.get_kind_display().lower()}, {locked.count} audit events "
            f"by user id {locked.user_id} between {long_datetime(locked.first_at)} "
            f"and {long_datetime(locked.last_at)}."
        ),
        discovered_at=locked.raised_at,
        request=request,
    )
    locked.incident = incident
    locked.save(update_fields=["incident"])
    audit_record(
        action=IncidentAction.ALERT_TURNED_INTO_INCIDENT,
        request=request,
        actor=user,
        obj=locked,
        detail={"reference": incident.reference},
    )
    return incident
