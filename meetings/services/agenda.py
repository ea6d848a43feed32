"""Scheduling and changing meetings, the agenda, who is invited to which case
(and so who it is shared with), and issuing the papers."""

from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Organisation, User
from agreements.selectors import organisations_in_good_standing
from audit.services import audit_record
from portal import freshness
from portal.calendar import working_days_before
from referrals.models import Referral, ShareReason, Status
from referrals.services import (
    ReferralRefused,
    referral_share_grant,
    referral_shares_end,
    restriction_refuse,
)

from ..audit_actions import MeetingAction
from ..models import (
    Action,
    AgendaItem,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from ._common import MeetingRefused, _coordinator, _locked_meeting
from .packs import (
    packs_outdated,
    packs_outdated_for_cases,
    packs_outdated_in,
    packs_requested,
)


def calendars_sync(meeting: Meeting) -> None:
    """Once the change commits, send the calendar emails it calls for
    (meetings.calendar): who is invited, or the time or place, changed."""
    meeting_id = meeting.pk

    def enqueue():
        from ..tasks import send_calendar_invitations

        send_calendar_invitations.enqueue(meeting_id)

    transaction.on_commit(enqueue)


def _parties_only(invited: list[Organisation], referring: Organisation) -> None:
    """Only parties to the ISA in force that acknowledged it may be invited to
    a case, whatever the form offered (docs/features.md, "Agreements"). The
    referring organisation is invited anyway: it already holds the case."""
    allowed = organisations_in_good_standing()
    refused = sorted(
        {o.name for o in invited if o.pk not in allowed and o.pk != referring.pk}
    )
    if refused:
        raise MeetingRefused(
            f"{', '.join(refused)} cannot be invited: only organisations that are "
            "parties to the Information Sharing Agreement in force, and have "
            "acknowledged it, may see a case."
        )


@transaction.atomic
def meeting_schedule(
    *, user: User, starts_at: datetime, chair: User, location: str = "",
    online_link: str = "", kind: str = MeetingKind.FULL,
    referral_deadline: date | None = None, reported_to: Meeting | None = None,
    request: HttpRequest | None = None,
) -> Meeting:  # fmt: skip
    _coordinator(user)
    if not location.strip() and not online_link.strip():
        raise MeetingRefused("Enter where the meeting is, or its online link")
    day = timezone.localtime(starts_at).date()
    meeting = Meeting(
        kind=kind,
        starts_at=starts_at,
        location=location.strip(),
        online_link=online_link.strip(),
        chair=chair,
        referral_deadline=referral_deadline
        or working_days_before(day, settings.MEETING_REFERRAL_DEADLINE_WORKING_DAYS),
        reported_to=reported_to,
    )
    meeting.full_clean()
    meeting.save()
    audit_record(
        action=MeetingAction.SCHEDULED, request=request, actor=user, obj=meeting
    )
    if reported_to is not None:
        # Its packs list the urgent meetings reported to it.
        packs_outdated_in(Meeting.objects.filter(pk=reported_to.pk))
    calendars_sync(meeting)  # the chair's invitation
    return meeting


def _not_restricted(referral: Referral, what: str) -> None:
    """Refuse a restricted case (``referrals.services.restriction``), with
    the case locked, so a restriction placed meanwhile counts."""
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    try:
        restriction_refuse(locked, what)
    except ReferralRefused as exc:
        raise MeetingRefused(str(exc)) from exc


def shares_sync(
    referral: Referral, *, user: User, reason: str = ShareReason.INFORMATION,
    grant: bool = True, request: HttpRequest | None = None,
) -> None:  # fmt: skip
    """Share a referral with the organisations invited to it on any agenda
    (besides the referring one, which always sees it), for ``reason``, and end
    the meeting shares of those no longer invited. The rules (consent, ends)
    are the referrals app's: ``referral_share_grant``."""
    wanted = set(
        AgendaItem.invited.through.objects.filter(
            agendaitem__referral=referral
        ).values_list("organisation_id", flat=True)
    ) - {referral.organisation_id}
    shared = set(referral.shares.in_force().values_list("organisation_id", flat=True))
    missing = wanted - shared if grant else set()
    for organisation in Organisation.objects.taking_part().filter(pk__in=missing):
        try:
            referral_share_grant(
                referral=referral,
                organisation=organisation,
                reason=reason,
                via_meeting=True,
                user=user,
                request=request,
            )
        except ReferralRefused as exc:
            raise MeetingRefused(str(exc)) from exc
    referral_shares_end(
        shares=referral.shares.filter(via_meeting=True).exclude(
            organisation_id__in=wanted
        ),
        reason="No longer invited to a meeting about the case",
        request=request,
    )


@transaction.atomic
def agenda_item_add(
    *, meeting: Meeting, referral: Referral, invited: list[Organisation],
    user: User, slot_minutes: int = 15, request: HttpRequest | None = None,
    share_reason: str = ShareReason.INFORMATION,
) -> AgendaItem:  # fmt: skip
    """Put an accepted referral on the agenda, inviting the agencies needed.

    The referring organisation is always invited.
    """
    _coordinator(user)
    _parties_only(invited, referral.organisation)
    meeting = _locked_meeting(meeting, "change_agenda")
    _not_restricted(referral, "put on an agenda")
    if referral.status != Status.ACCEPTED:
        raise MeetingRefused(
            f"{referral.reference} is '{referral.get_status_display()}': only "
            "accepted referrals go on an agenda."
        )
    if meeting.agenda_items.filter(referral=referral).exists():
        raise MeetingRefused(f"{referral.reference} is already on this agenda.")
    last = meeting.agenda_items.aggregate(last=Max("position"))["last"] or 0
    item = AgendaItem(
        meeting=meeting, referral=referral, position=last + 1, slot_minutes=slot_minutes
    )
    # The meeting and case are held (the meeting locked), and checked above
    # for the case already on the agenda; the constraints stand behind that.
    item.full_clean(exclude=["meeting", "referral"])
    item.save()
    item.invited.set({*invited, referral.organisation})
    shares_sync(referral, user=user, reason=share_reason, request=request)
    audit_record(
        action=MeetingAction.AGENDA_ITEM_ADDED,
        request=request,
        actor=user,
        obj=item,
        detail={"meeting": meeting.pk, "reference": referral.reference},
    )
    packs_outdated(meeting)
    calendars_sync(meeting)
    return item


@transaction.atomic
def agenda_item_invite(
    *, item: AgendaItem, invited: list[Organisation], user: User,
    request: HttpRequest | None = None, share_reason: str = ShareReason.INFORMATION,
) -> AgendaItem:  # fmt: skip
    _coordinator(user)
    _parties_only(invited, item.referral.organisation)
    _locked_meeting(item.meeting, "change_invitations")
    wanted = {*invited, item.referral.organisation}
    current = set(item.invited.values_list("pk", flat=True))
    if {o.pk for o in wanted} == current:
        # Saved unchanged: nothing to share, rebuild or record.
        return item
    if {o.pk for o in wanted} - current:
        # Inviting another agency shares the case; uninviting never does.
        _not_restricted(item.referral, "shared with another organisation")
    item.invited.set(wanted)
    shares_sync(item.referral, user=user, reason=share_reason, request=request)
    audit_record(
        action=MeetingAction.INVITATIONS_CHANGED,
        request=request,
        actor=user,
        obj=item,
        detail={"organisations": sorted(o.pk for o in item.invited.all())},
    )
    packs_outdated(item.meeting)
    calendars_sync(item.meeting)
    return item


# Meetings whose invitations are still pending: papers may yet go out.
NOT_YET_HELD = (MeetingStatus.PLANNED, MeetingStatus.PAPERS_ISSUED)


@transaction.atomic
def invitations_withdraw(
    *, organisation: Organisation, request: HttpRequest | None = None
) -> int:
    """Take ``organisation`` off every agenda item of a meeting not yet held
    (a partner that withdrew); returns how many invitations. Invitations to
    meetings already held stay: they are the record of who was there. Its
    case shares are ended by the caller; packs of the others are rebuilt."""
    items = AgendaItem.objects.filter(
        invited=organisation, meeting__status__in=NOT_YET_HELD
    ).select_related("meeting")
    removed, meetings = 0, set()
    for item in items:
        item.invited.remove(organisation)
        audit_record(
            action=MeetingAction.INVITATIONS_CHANGED,
            request=request,
            obj=item,
            detail={"organisations": sorted(o.pk for o in item.invited.all()),
                    "removed": [organisation.pk], "reason": "partner_withdrawn"},
        )  # fmt: skip
        meetings.add(item.meeting_id)
        removed += 1
    if meetings:
        packs_outdated_in(Meeting.objects.filter(pk__in=meetings))
    return removed


@transaction.atomic
def agenda_item_remove(
    *, item: AgendaItem, user: User, request: HttpRequest | None = None
) -> None:
    _coordinator(user)
    meeting = _locked_meeting(item.meeting, "change_agenda")
    if item.actions.exists():
        raise MeetingRefused(
            "This case has actions agreed at the meeting, so it stays on the agenda."
        )
    referral = item.referral
    audit_record(
        action=MeetingAction.AGENDA_ITEM_REMOVED, request=request, actor=user, obj=item
    )
    item.delete()
    _positions_save(list(meeting.agenda_items.all()))
    shares_sync(referral, user=user, grant=False, request=request)
    packs_outdated(meeting)
    calendars_sync(meeting)


def _positions_save(items: list[AgendaItem]) -> None:
    """Number ``items`` 1, 2, 3... in their order, in one UPDATE; the unique
    position is checked at commit, so two items may swap."""
    moved = []
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position
            moved.append(item)
    AgendaItem.objects.bulk_update(moved, ["position"])
    if moved:
        # A bulk update sends no signal, and the meeting page's agenda is
        # kept in the shared cache (docs/caching.md).
        freshness.outdate()


@transaction.atomic
def agenda_item_move(
    *, item: AgendaItem, offset: int, user: User, request: HttpRequest | None = None
) -> None:
    """Move a case up (-1) or down (+1) the agenda."""
    _coordinator(user)
    meeting = _locked_meeting(item.meeting, "change_agenda")
    items = list(meeting.agenda_items.all())
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    target = index + offset
    if not 0 <= target < len(items):
        return
    items[index], items[target] = items[target], items[index]
    _positions_save(items)
    audit_record(
        action=MeetingAction.AGENDA_REORDERED, request=request, actor=user, obj=meeting
    )
    packs_outdated(meeting)


@transaction.atomic
def papers_issue(
    *, meeting: Meeting, user: User, request: HttpRequest | None = None
) -> Meeting:
    """Issue the papers: packs are built and invited agencies told."""
    _coordinator(user)
    meeting = _locked_meeting(meeting, "issue_papers")
    if not meeting.agenda_items.exists():
        raise MeetingRefused("Add at least one case to the agenda first.")
    meeting.status = MeetingStatus.PAPERS_ISSUED
    meeting.papers_issued_at = timezone.now()
    meeting.save(update_fields=["status", "papers_issued_at"])
    audit_record(
        action=MeetingAction.PAPERS_ISSUED, request=request, actor=user, obj=meeting
    )
    packs_requested([meeting.pk], notify=True)
    meeting.refresh_from_db(fields=["packs_version"])
    return meeting


# What a calendar invitation shows: a change sends everyone an update.
CALENDAR_FIELDS = {"starts_at", "location", "online_link"}
MEETING_CHANGEABLE = ("starts_at", "location", "online_link", "chair",
                      "referral_deadline")  # fmt: skip


@transaction.atomic
def meeting_update(
    *, meeting: Meeting, user: User, request: HttpRequest | None = None, **changes
) -> Meeting:
    """Move a meeting, change its place or chair, before it is held.

    Only the fields in ``MEETING_CHANGEABLE``; the agenda is built on the
    meeting page. Issued packs are rebuilt, since they show time and place.
    """
    _coordinator(user)
    unknown = set(changes) - set(MEETING_CHANGEABLE)
    if unknown:
        raise MeetingRefused(f"These cannot be changed here: {sorted(unknown)}")
    locked = _locked_meeting(meeting, "change_details")
    for name in ("location", "online_link"):
        if name in changes:
            changes[name] = (changes[name] or "").strip()
    changed = {
        name: value for name, value in changes.items() if getattr(locked, name) != value
    }
    if not changed:
        return locked
    for name, value in changed.items():
        setattr(locked, name, value)
    if not locked.location and not locked.online_link:
        raise MeetingRefused("Enter where the meeting is, or its online link")
    fields = list(changed)
    if CALENDAR_FIELDS & set(changed):
        # Everyone invited gets an update with a higher SEQUENCE.
        locked.calendar_version += 1
        fields.append("calendar_version")
    locked.full_clean()
    locked.save(update_fields=fields)
    audit_record(
        action=MeetingAction.CHANGED,
        request=request,
        actor=user,
        obj=locked,
        detail={"fields": sorted(changed)},
    )
    packs_outdated(locked)
    if "starts_at" in changed:
        # The time shows in the packs of the meeting an urgent one reports
        # to, and decides which actions count as outstanding in other packs.
        packs_outdated_in(Meeting.objects.filter(pk=locked.reported_to_id))
        packs_outdated_for_cases(
            Action.objects.filter(agenda_item__meeting=locked).values("referral")
        )
    calendars_sync(locked)
    return locked


@transaction.atomic
def meeting_cancel(
    *, meeting: Meeting, user: User, request: HttpRequest | None = None
) -> Meeting:
    """Cancel a meeting that has not been held: everyone who had a calendar
    invitation gets a cancellation. The agenda stays as it was, for the
    record; its cases go on another meeting's agenda as usual."""
    _coordinator(user)
    locked = _locked_meeting(meeting, "cancel")
    locked.status = MeetingStatus.CANCELLED
    locked.full_clean()
    locked.save(update_fields=["status"])
    audit_record(
        action=MeetingAction.CANCELLED, request=request, actor=user, obj=locked
    )
    calendars_sync(locked)
    return locked
