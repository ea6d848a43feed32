"""Business rules for meetings: scheduling, the agenda and who is invited to
which case, issuing papers, building packs and stamping them per download."""

import hashlib
import io
import itertools
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max, Prefetch, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Organisation, Role, User
from agreements.selectors import organisations_in_good_standing
from audit.services import audit_record
from files.storage import ChunkStream, stream_chunks
from files.stored import kind_for, object_write, objects_abandon, objects_kept
from portal.calendar import working_days_before
from portal.dates import long_datetime
from portal.pdf import html_to_pdf
from referrals.models import Referral, RiskLevel, ShareReason, Status
from referrals.redaction import Audience, case_view
from referrals.services import (
    ReferralRefused,
    referral_share_grant,
    referral_shares_end,
)

from .models import (
    Action,
    ActionStatus,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingKind,
    MeetingPack,
    MeetingStatus,
)
from .watermark import STAMP_FORMAT, watermark_prepare, watermark_update

logger = logging.getLogger(__name__)


# A case's next review after discussion, by its risk level then (days).
REVIEW_DAYS = {RiskLevel.HIGH: 14, RiskLevel.MEDIUM: 28, RiskLevel.STANDARD: 56}


class MeetingRefused(Exception):
    """Not allowed; the message says why in plain words."""


def _coordinator(user: User) -> None:
    if not user.has_role(Role.COORDINATOR):
        raise MeetingRefused("Only coordinators manage meetings.")


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
    audit_record(action="meeting.scheduled", request=request, actor=user, obj=meeting)
    if reported_to is not None:
        # Its packs list the urgent meetings reported to it.
        packs_outdated_in(Meeting.objects.filter(pk=reported_to.pk))
    return meeting


def _locked_meeting(meeting: Meeting, step: str | None = None) -> Meeting:
    """The meeting, locked for this transaction; refused unless ``step`` is
    allowed now (``meetings.models.MEETING_RULES``)."""
    locked = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if step is not None and (refusal := locked.refusal(step)):
        raise MeetingRefused(refusal)
    return locked


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
    for organisation in Organisation.objects.filter(pk__in=missing):
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
    item.full_clean()
    item.save()
    item.invited.set({*invited, referral.organisation})
    shares_sync(referral, user=user, reason=share_reason, request=request)
    audit_record(
        action="meeting.agenda_item_added",
        request=request,
        actor=user,
        obj=item,
        detail={"meeting": meeting.pk, "reference": referral.reference},
    )
    packs_outdated(meeting)
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
    if {o.pk for o in wanted} == set(item.invited.values_list("pk", flat=True)):
        # Saved unchanged: nothing to share, rebuild or record.
        return item
    item.invited.set(wanted)
    shares_sync(item.referral, user=user, reason=share_reason, request=request)
    audit_record(
        action="meeting.invitations_changed",
        request=request,
        actor=user,
        obj=item,
        detail={"organisations": sorted(o.pk for o in item.invited.all())},
    )
    packs_outdated(item.meeting)
    return item


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
        action="meeting.agenda_item_removed", request=request, actor=user, obj=item
    )
    item.delete()
    for position, remaining in enumerate(meeting.agenda_items.all(), start=1):
        if remaining.position != position:
            remaining.position = position
            remaining.save(update_fields=["position"])
    shares_sync(referral, user=user, grant=False, request=request)
    packs_outdated(meeting)


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
    for position, other in enumerate(items, start=1):
        if other.position != position:
            other.position = position
            other.save(update_fields=["position"])
    audit_record(
        action="meeting.agenda_reordered", request=request, actor=user, obj=meeting
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
        action="meeting.papers_issued", request=request, actor=user, obj=meeting
    )
    meeting_id = meeting.pk
    transaction.on_commit(lambda: _enqueue_build(meeting_id, notify=True))
    return meeting


def packs_outdated(meeting: Meeting) -> None:
    """Rebuild packs after a change, once papers are out.

    Downloads do not check that a pack is current (that would cost the queries
    of a build), so every change to what a pack shows must end up here: the
    services below, and meetings/receivers.py for referrals, organisations'
    and chairs' names.
    """
    if meeting.status == MeetingStatus.PAPERS_ISSUED:
        meeting_id = meeting.pk
        transaction.on_commit(lambda: _enqueue_build(meeting_id, notify=False))


def packs_outdated_in(meetings: QuerySet[Meeting]) -> None:
    """``packs_outdated`` for those of ``meetings`` whose papers are out, as
    the database has them now."""
    for meeting in meetings.filter(status=MeetingStatus.PAPERS_ISSUED).distinct():
        packs_outdated(meeting)


def packs_outdated_for_cases(referrals) -> None:
    """Rebuild the issued packs that show these cases (referrals or their
    ids), e.g. after a change to their outstanding actions."""
    packs_outdated_in(Meeting.objects.filter(agenda_items__referral__in=referrals))


def _enqueue_build(meeting_id: int, notify: bool) -> None:
    from .tasks import build_meeting_packs

    # With ``notify``, the event names this issue of papers in the outbox, so
    # a rerun of the build emails nobody twice.
    build_meeting_packs.enqueue(meeting_id, notify, uuid.uuid4().hex)


# Packs --------------------------------------------------------------------------


def invited_organisations(meeting: Meeting) -> list[Organisation]:
    """The invited organisations that may see case material now: packs are
    built, and papers and minutes announced, for these alone. An organisation
    a new agreement version dropped, or one that has fallen behind with it,
    gets no pack (its old one is deleted at the next build) and no email."""
    return list(
        Organisation.objects.filter(
            agenda_invitations__meeting=meeting,
            pk__in=organisations_in_good_standing(),
        )
        .distinct()
        .order_by("name")
    )


def outstanding_actions(referral: Referral, before: Meeting) -> list[Action]:
    """Open actions for the case agreed at meetings before ``before``."""
    return list(
        Action.objects.filter(
            referral=referral,
            status=ActionStatus.OPEN,
            agenda_item__meeting__starts_at__lt=before.starts_at,
        ).select_related("owner", "agenda_item__meeting")
    )


def pack_context(meeting: Meeting, organisation: Organisation) -> dict:
    """Everything one organisation's pack shows: only its cases, redacted."""
    items = list(
        meeting.agenda_items.filter(invited=organisation)
        .select_related("referral__organisation", "referral__free_text_review")
        .order_by("position")
    )
    start = timezone.localtime(meeting.starts_at)
    cases = []
    for item in items:
        slot_start = start
        start += timedelta(minutes=item.slot_minutes)
        # The same redaction as the case page and its PDF, for this agency.
        view = case_view(Audience.of_organisation(organisation), item.referral)
        cases.append(
            {
                "item": item,
                "referral": item.referral,
                "starts": slot_start,
                "sections": view.sections,
                "redacted": view.redacted,
                "attachments": view.attachments,
                "partner_summary": view.partner_summary,
                "actions": outstanding_actions(item.referral, meeting),
            }
        )
    return {
        "meeting": meeting,
        "organisation": organisation,
        "cases": cases,
        "other_cases": meeting.agenda_items.count() - len(items),
        "urgent_reported": list(meeting.urgent_meetings_reported.all()),
        "protective_marking": settings.PROTECTIVE_MARKING,
    }


def _source_hash(html: str) -> str:
    """A hash of what the pack shows, so an unchanged pack is not rebuilt.

    The print HTML is hashed rather than a list of facts, so anything the
    template shows (names, risk levels, urgent meetings reported) counts;
    the template and stamp versions cover changes in how it becomes a PDF.
    """
    versions = f"{settings.MEETING_PACK_TEMPLATE_VERSION}/{STAMP_FORMAT}\n"
    return hashlib.sha256((versions + html).encode()).hexdigest()


def _pack_current(pack: MeetingPack | None, source: str) -> bool:
    return (
        pack is not None
        and pack.source_hash == source
        and pack.stamp.get("format") == STAMP_FORMAT
        and pack.file.storage.exists(pack.file.name)
    )


def pack_build(meeting: Meeting, organisation: Organisation) -> MeetingPack:
    """Build (or keep, if nothing changed) one organisation's pack, ready to
    be stamped on download (``watermark_prepare``)."""
    html = render_to_string(
        "meetings/pdf/pack.html", pack_context(meeting, organisation)
    )
    source = _source_hash(html)
    existing = MeetingPack.objects.filter(
        meeting=meeting, organisation=organisation
    ).first()
    if _pack_current(existing, source):
        return existing
    started = time.perf_counter()
    prepared = watermark_prepare(html_to_pdf(html))
    seconds = time.perf_counter() - started
    # The file is written (its pending mark committed first) before the row's
    # transaction, so a crash leaves nothing the sweeper cannot find.
    written = MeetingPack(meeting=meeting, organisation=organisation)
    name = object_write(
        written,
        "file",
        ContentFile(prepared.pdf),
        filename=f"{meeting.pk}-{organisation.slug}.pdf",
    )
    try:
        with transaction.atomic():
            pack = (
                MeetingPack.objects.select_for_update()
                .filter(meeting=meeting, organisation=organisation)
                .first()
            ) or written
            old_name = pack.file.name if pack.pk else None
            pack.file.name = name
            pack.source_hash, pack.pages, pack.build_seconds = (
                source,
                prepared.pages,
                seconds,
            )
            pack.stamp = prepared.stamp
            pack.built_at = timezone.now()
            pack.save()
            objects_kept([name])
            if old_name:
                storage = pack.file.storage
                transaction.on_commit(lambda: storage.delete(old_name))
    except Exception:
        if not objects_abandon(kind_for(MeetingPack, "file"), [name]):
            raise
        # Committed, though the reply was lost: the new row is the pack.
        pack = MeetingPack.objects.get(file=name)
    logger.info(
        "Built meeting pack %s: %s pages in %.1f s", pack.pk, prepared.pages, seconds
    )
    return pack


def packs_build(meeting: Meeting) -> list[MeetingPack]:
    """Build every invited organisation's pack; drop packs of those uninvited."""
    organisations = invited_organisations(meeting)
    packs = [pack_build(meeting, organisation) for organisation in organisations]
    stale = MeetingPack.objects.filter(meeting=meeting).exclude(
        organisation__in=organisations
    )
    for pack in stale:
        name, storage = pack.file.name, pack.file.storage
        pack.delete()
        storage.delete(name)
    return packs


def packs_delete_for_organisations(*, organisation_ids, reason: str) -> int:
    """Delete every meeting pack of these organisations, and its stored file,
    audited; returns how many (an organisation an ISA version dropped)."""
    deleted = 0
    for pack in MeetingPack.objects.filter(organisation_id__in=organisation_ids):
        name, storage = pack.file.name, pack.file.storage
        audit_record(
            action="meeting.pack_deleted",
            obj=pack,
            detail={"meeting": pack.meeting_id, "organisation": pack.organisation_id,
                    "reason": reason},
        )  # fmt: skip
        pack.delete()
        transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
        deleted += 1
    return deleted


def watermark_text(user: User, when: datetime | None = None) -> str:
    when = timezone.localtime(when or timezone.now())
    return (
        f"Downloaded by {user.get_full_name() or user.get_username()}, "
        f"{user.organisation or 'no organisation'}, {long_datetime(when)}"
    )


@dataclass(frozen=True)
class PackDownload:
    """A pack watermarked for one download: the stored file in chunks, then
    the stamp; ``size`` bytes in all."""

    pack: MeetingPack
    chunks: ChunkStream
    size: int


def pack_download(
    *, meeting: Meeting, organisation: Organisation, user: User,
    request: HttpRequest | None = None,
) -> PackDownload:  # fmt: skip
    """The organisation's pack, watermarked for ``user``.

    The background build keeps stored packs current (``packs_outdated``), so a
    download builds only a pack that is missing, lost from storage or prepared
    in an older format. Otherwise it reads one row and appends about a
    kilobyte to the stored file, whatever the pack's size.
    """
    pack = MeetingPack.objects.filter(
        meeting=meeting, organisation=organisation
    ).first()
    if pack is None or pack.stamp.get("format") != STAMP_FORMAT:
        pack = pack_build(meeting, organisation)
    try:
        stored = stream_chunks(pack.file.storage, pack.file.name)
    except FileNotFoundError:
        # Lost, or replaced by a rebuild that committed after the row was read
        # (the old file is deleted then): pack_build finds or makes the file.
        logger.warning("Meeting pack %s had no file; building it", pack.pk)
        pack = pack_build(meeting, organisation)
        stored = stream_chunks(pack.file.storage, pack.file.name)
    try:
        update = watermark_update(
            pack.stamp, watermark_text(user), source=lambda: pack.file.open("rb")
        )
        audit_record(
            action="meeting.pack_downloaded",
            request=request,
            actor=user,
            obj=pack,
            detail={"meeting": meeting.pk, "organisation": organisation.pk,
                    "pages": pack.pages},
        )  # fmt: skip
    except BaseException:
        stored.close()
        raise
    return PackDownload(
        pack=pack,
        chunks=ChunkStream(itertools.chain(stored, (update,)), stored.close),
        size=pack.stamp["size"] + len(update),
    )


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
        action="meeting.action_updated",
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


# Changing a scheduled meeting (admin) ------------------------------------------

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
    locked.full_clean()
    locked.save(update_fields=list(changed))
    audit_record(
        action="meeting.changed",
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
    return locked


# Recording the meeting, actions and minutes ------------------------------------

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
        action="meeting.attendance_recorded",
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
    audit_record(action="meeting.held", request=request, actor=user, obj=meeting)
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
        action="meeting.case_discussed",
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
        action="meeting.action_added",
        request=request,
        actor=user,
        obj=action,
        detail={"meeting": item.meeting_id, "owner": owner.pk,
                "due": due.isoformat()},
    )  # fmt: skip
    # Outstanding in the packs of later meetings that discuss the case.
    packs_outdated_for_cases([item.referral_id])
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
        action="meeting.minutes_saved", request=request, actor=user, obj=meeting
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
        action="meeting.minutes_issued", request=request, actor=user, obj=meeting
    )
    meeting_id = meeting.pk
    transaction.on_commit(lambda: _enqueue_minutes_notify(meeting_id))
    return meeting


def _enqueue_minutes_notify(meeting_id: int) -> None:
    from .tasks import send_minutes_issued

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


def minutes_pdf(
    *, meeting: Meeting, organisation: Organisation, user: User,
    request: HttpRequest | None = None,
) -> bytes:  # fmt: skip
    """One organisation's minutes as a PDF, watermarked for ``user``."""
    if meeting.status != MeetingStatus.MINUTES_ISSUED:
        raise MeetingRefused("The minutes of this meeting are not issued yet.")
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
        action="meeting.minutes_downloaded",
        request=request,
        actor=user,
        obj=meeting,
        detail={"organisation": organisation.pk,
                "cases": [item.pk for item in context["cases"]]},
    )  # fmt: skip
    return stamped
