"""Recording a meeting: attendance, what was made of each case, actions and
their progress, and the minutes."""

import io
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, Role, User
from audit.models import Outcome
from audit.services import audit_record
from notices.models import NoticeKind
from notices.selectors import organisation_people
from notices.services import notices_record
from portal.dates import long_date
from portal.pdf import html_to_pdf
from referrals.models import Referral, RiskLevel
from referrals.services import (
    referral_shares_end,
)

from ..audit_actions import MeetingAction
from ..models import (
    Action,
    ActionStatus,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingStatus,
)
from ..watermark import watermark_prepare, watermark_update
from ._common import MeetingRefused, _coordinator, _locked_meeting
from .confidentiality import confidentiality_gate
from .packs import packs_outdated_for_cases, watermark_text

# A case's next review after discussion, by its risk level then (days).
REVIEW_DAYS = {RiskLevel.HIGH: 14, RiskLevel.MEDIUM: 28, RiskLevel.STANDARD: 56}


@transaction.atomic
def action_update(
    *, action: Action, user: User, status: str, update: str,
    request: HttpRequest | None = None,
) -> Action:  # fmt: skip
    """The owning agency (or a coordinator) records progress on an action."""
    if user.organisation_id != action.owner_id and not user.has_role(Role.COORDINATOR):
        raise MeetingRefused("Only the agency that owns an action can update it.")
    locked = Action.objects.select_for_update().get(pk=action.pk)
    if (locked.status, locked.update) == (status, update.strip()):
        return locked  # saved unchanged: the progress note keeps its date
    before = locked.status
    locked.status = ActionStatus(status)
    locked.update = update.strip()
    locked.updated_by = user
    locked.updated_at = timezone.now()
    locked.full_clean()
    locked.save()
    audit_record(
        action=MeetingAction.ACTION_UPDATED,
        request=request,
        actor=user,
        obj=locked,
        detail={"from": before, "to": locked.status},
    )
    packs_outdated_for_cases([locked.referral_id])
    if locked.status != ActionStatus.OPEN:
        _shares_end_after_actions(locked, request)
    return locked


def open_action_owners(referral: Referral) -> set[int]:
    """Organisations with open actions on the case: they keep access after it
    closes, until their actions are done (``referral_transition``)."""
    return set(
        Action.objects.filter(referral=referral, status=ActionStatus.OPEN)
        .values_list("owner_id", flat=True)
        .distinct()
    )


def _shares_end_after_actions(action: Action, request) -> None:
    """A closed case stays shared with an agency only while it has open
    actions on it: the last one done ends the share."""
    referral = Referral.objects.get(pk=action.referral_id)
    if referral.is_open or action.owner_id in open_action_owners(referral):
        return
    referral_shares_end(
        shares=referral.shares.filter(organisation_id=action.owner_id),
        reason="The case is closed and the organisation's actions are finished",
        request=request,
    )


MINUTES_DUE_WORKING_DAYS = 3


@transaction.atomic
def attendance_record(
    *, meeting: Meeting, organisation: Organisation, name: str, status: str,
    confidentiality_confirmed: bool, user: User, request: HttpRequest | None = None,
) -> Attendance:  # fmt: skip
    """Add or update one person on the register, keyed by organisation and name.

    The time someone confirmed confidentiality is recorded the first time only:
    it is evidence of when they agreed, so a later save does not move it.
    """
    _coordinator(user)
    meeting = _locked_meeting(meeting, "record")
    name = " ".join(name.split())
    if not name:
        raise MeetingRefused("Enter the name of the person attending")
    row = (
        Attendance.objects.select_for_update()
        .filter(meeting=meeting, organisation=organisation, name__iexact=name)
        .first()
    ) or Attendance(meeting=meeting, organisation=organisation, name=name)
    created = row.pk is None
    confirming = confidentiality_confirmed and row.confidentiality_confirmed_at is None
    if not created and row.status == status and not confirming:
        return row  # saved unchanged
    row.status = status
    if confirming:
        row.confidentiality_confirmed_at = timezone.now()
    row.full_clean()
    row.save()
    audit_record(
        action=MeetingAction.ATTENDANCE_RECORDED,
        request=request,
        actor=user,
        obj=row,
        detail={"meeting": meeting.pk, "created": created, "status": row.status,
                "confidentiality_confirmed": bool(row.confidentiality_confirmed_at)},
    )  # fmt: skip
    return row


@transaction.atomic
def meeting_mark_held(
    *, meeting: Meeting, user: User, request: HttpRequest | None = None
) -> Meeting:
    _coordinator(user)
    meeting = _locked_meeting(meeting, "mark_held")
    meeting.status = MeetingStatus.HELD
    meeting.save(update_fields=["status"])
    audit_record(action=MeetingAction.HELD, request=request, actor=user, obj=meeting)
    return meeting


@transaction.atomic
def case_discussion_record(
    *, item: AgendaItem, discussion: str, risk_after: str, decisions: str,
    user: User, request: HttpRequest | None = None,
) -> AgendaItem:  # fmt: skip
    """What the meeting made of a case; the next review follows from the risk
    (``REVIEW_DAYS``)."""
    _coordinator(user)
    meeting = _locked_meeting(item.meeting, "record")
    if risk_after not in REVIEW_DAYS:
        raise MeetingRefused("Select the risk level after discussion")
    locked = AgendaItem.objects.select_for_update().get(pk=item.pk)
    recorded = {
        "discussion": discussion.strip(),
        "risk_after": risk_after,
        "decisions": decisions.strip(),
        "next_review": meeting.day + timedelta(days=REVIEW_DAYS[risk_after]),
    }
    if all(getattr(locked, name) == value for name, value in recorded.items()):
        return locked  # saved unchanged
    for name, value in recorded.items():
        setattr(locked, name, value)
    locked.full_clean()
    locked.save()
    audit_record(
        action=MeetingAction.CASE_DISCUSSED,
        request=request,
        actor=user,
        obj=locked,
        detail={"meeting": meeting.pk, "risk_after": risk_after,
                "next_review": locked.next_review.isoformat()},
    )  # fmt: skip
    return locked


@transaction.atomic
def action_add(
    *, item: AgendaItem, owner: Organisation, officer: str, description: str,
    due: date, user: User, request: HttpRequest | None = None,
) -> Action:  # fmt: skip
    """An action agreed for a case: the owner must be invited to that case."""
    _coordinator(user)
    _locked_meeting(item.meeting, "record")
    if not item.invited.filter(pk=owner.pk).exists():
        raise MeetingRefused(
            f"{owner} is not invited to this case: invite it first, or choose "
            "an organisation that is."
        )
    if due < timezone.localdate():
        raise MeetingRefused("Due date must be today or in the future")
    action = Action(
        agenda_item=item,
        referral=item.referral,
        owner=owner,
        officer=officer.strip(),
        description=description.strip(),
        due=due,
        updated_by=user,
        updated_at=timezone.now(),
    )
    action.full_clean()
    action.save()
    audit_record(
        action=MeetingAction.ACTION_ADDED,
        request=request,
        actor=user,
        obj=action,
        detail={"meeting": item.meeting_id, "owner": owner.pk,
                "due": due.isoformat()},
    )  # fmt: skip
    # Outstanding in the packs of later meetings that discuss the case.
    packs_outdated_for_cases([item.referral_id])
    notices_record(
        kind=NoticeKind.ACTION_ASSIGNED,
        recipients=organisation_people(owner),
        title=f"Action for your organisation on case {item.referral.reference}, "
        f"due {long_date(due)}",
        link=reverse("meetings:update_action", args=[action.pk]),
        event=f"action-{action.pk}-assigned",
    )
    return action


@transaction.atomic
def minutes_save(
    *, meeting: Meeting, general_minutes: str, user: User,
    request: HttpRequest | None = None,
) -> Meeting:  # fmt: skip
    _coordinator(user)
    meeting = _locked_meeting(meeting, "record")
    if meeting.general_minutes == general_minutes.strip():
        return meeting  # saved unchanged
    meeting.general_minutes = general_minutes.strip()
    meeting.full_clean()
    meeting.save(update_fields=["general_minutes"])
    audit_record(
        action=MeetingAction.MINUTES_SAVED, request=request, actor=user, obj=meeting
    )
    return meeting


@transaction.atomic
def minutes_issue(
    *, meeting: Meeting, user: User, request: HttpRequest | None = None
) -> Meeting:
    """Issue the minutes of a held meeting; invited agencies' staff are emailed
    that they are ready (the email holds no personal data)."""
    _coordinator(user)
    meeting = _locked_meeting(meeting, "issue_minutes")
    meeting.status = MeetingStatus.MINUTES_ISSUED
    meeting.minutes_issued_at = timezone.now()
    meeting.save(update_fields=["status", "minutes_issued_at"])
    audit_record(
        action=MeetingAction.MINUTES_ISSUED, request=request, actor=user, obj=meeting
    )
    meeting_id = meeting.pk
    transaction.on_commit(lambda: _enqueue_minutes_notify(meeting_id))
    return meeting


def _enqueue_minutes_notify(meeting_id: int) -> None:
    from ..tasks import send_minutes_issued

    send_minutes_issued.enqueue(meeting_id)


def minutes_context(meeting: Meeting, organisation: Organisation) -> dict:
    """One organisation's minutes: the general minutes, the attendance and only
    the cases it was invited to, with the actions agreed for each."""
    items = (
        meeting.agenda_items.filter(invited=organisation)
        .select_related("referral__organisation")
        .prefetch_related(
            Prefetch(
                "actions",
                queryset=Action.objects.select_related("owner").order_by("due", "pk"),
            )
        )
        .order_by("position")
    )
    return {
        "meeting": meeting,
        "organisation": organisation,
        "cases": list(items),
        "other_cases": meeting.agenda_items.exclude(invited=organisation).count(),
        "attendance": list(meeting.attendance.select_related("organisation")),
        "protective_marking": settings.PROTECTIVE_MARKING,
    }


class MinutesDestroyed(MeetingRefused):
    """The meeting's record, minutes included, was destroyed."""


def minutes_pdf(
    *, meeting: Meeting, organisation: Organisation, user: User,
    request: HttpRequest | None = None,
) -> bytes:  # fmt: skip
    """One organisation's minutes as a PDF, watermarked for ``user``;
    ``MinutesDestroyed`` (audited) once the meeting's record is destroyed."""
    if meeting.disposed_at is not None:
        audit_record(
            action=MeetingAction.MINUTES_DOWNLOAD_REFUSED,
            request=request,
            actor=user,
            obj=meeting,
            outcome=Outcome.DENIED,
            detail={"meeting": meeting.pk, "organisation": organisation.pk,
                    "reason": "meeting_disposed"},
        )  # fmt: skip
        raise MinutesDestroyed(meeting.disposed_refusal)
    if meeting.status != MeetingStatus.MINUTES_ISSUED:
        raise MeetingRefused("The minutes of this meeting are not issued yet.")
    confidentiality_gate(
        meeting=meeting,
        organisation=organisation,
        user=user,
        refused_action=MeetingAction.MINUTES_DOWNLOAD_REFUSED,
        request=request,
    )
    context = minutes_context(meeting, organisation)
    prepared = watermark_prepare(
        html_to_pdf(render_to_string("meetings/pdf/minutes.html", context))
    )
    stamped = prepared.pdf + watermark_update(
        prepared.stamp,
        watermark_text(user),
        source=lambda: io.BytesIO(prepared.pdf),
    )
    audit_record(
        action=MeetingAction.MINUTES_DOWNLOADED,
        request=request,
        actor=user,
        obj=meeting,
        detail={"organisation": organisation.pk,
                "cases": [item.pk for item in context["cases"]]},
    )  # fmt: skip
    return stamped
