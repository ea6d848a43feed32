"""Meeting packs: what each organisation's pack shows, building and rebuilding
them in the background, and stamping them per download."""

import hashlib
import io
import itertools
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pikepdf
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Exists, F, Q, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Organisation, Role, User
from agreements.selectors import organisations_in_good_standing
from audit.models import Outcome
from audit.services import audit_record
from files.storage import ChunkStream, stream_chunks
from files.stored import kind_for, object_write, objects_abandon, objects_kept
from portal.dates import long_datetime
from portal.pdf import html_to_pdf, html_to_pdf_if_pages, html_to_pdfs
from referrals.models import CaseRestriction, Referral
from referrals.redaction import Audience, case_view, notes_for

from ..audit_actions import MeetingAction
from ..models import (
    Action,
    ActionStatus,
    Meeting,
    MeetingPack,
    MeetingStatus,
    PackSection,
)
from ..pack_pdf import pack_assemble
from ..watermark import STAMP_FORMAT, watermark_prepare, watermark_update
from ._common import MeetingRefused
from .confidentiality import confidentiality_gate, confirmations

logger = logging.getLogger(__name__)


def packs_outdated(meeting: Meeting) -> None:
    """Rebuild packs after a change, once papers are out.

    Downloads do not check that a pack is current (that would cost the queries
    of a build), so every change to what a pack shows must end up here: the
    services below, and meetings/receivers.py for referrals, organisations'
    and chairs' names.
    """
    if meeting.status == MeetingStatus.PAPERS_ISSUED and meeting.disposed_at is None:
        packs_requested([meeting.pk])


def packs_requested(meeting_ids, *, notify: bool = False) -> None:
    """Count a change to what these meetings' packs show, in the caller's
    transaction, and queue their build once it commits.

    The count (``Meeting.packs_version``) is what lets the meeting page say a
    pack is being prepared, from the moment the change commits until a build
    that started after it has finished. The request itself does nothing
    heavier: the build runs in the background worker.
    """
    meeting_ids = sorted(set(meeting_ids))
    if not meeting_ids:
        return
    Meeting.objects.filter(pk__in=meeting_ids).update(
        packs_version=F("packs_version") + 1
    )
    for meeting_id in meeting_ids:
        transaction.on_commit(
            lambda meeting_id=meeting_id: _enqueue_build(meeting_id, notify=notify)
        )


def packs_outdated_in(meetings: QuerySet[Meeting]) -> None:
    """``packs_outdated`` for those of ``meetings`` whose papers are out, as
    the database has them now."""
    packs_requested(
        meetings.filter(status=MeetingStatus.PAPERS_ISSUED, disposed_at__isnull=True)
        .values_list("pk", flat=True)
        .distinct()
    )


def packs_outdated_for_cases(referrals) -> None:
    """Rebuild the issued packs that show these cases (referrals or their
    ids), e.g. after a change to their outstanding actions."""
    packs_outdated_in(Meeting.objects.filter(agenda_items__referral__in=referrals))


def packs_rebuild_showing(referral_id: int, *, issued_too: bool = True) -> None:
    """Rebuild every stored pack of a meeting with the case on its agenda,
    whatever the meeting's stage: a held meeting's packs can still be
    downloaded, and a correction or a restriction must reach them too.
    ``issued_too`` False leaves out meetings whose papers are out and not yet
    held (``packs_outdated`` already rebuilds those on any save of the case)."""
    meetings = Meeting.objects.filter(agenda_items__referral_id=referral_id).filter(
        Q(status=MeetingStatus.PAPERS_ISSUED) | Q(packs__isnull=False)
    )
    if not issued_too:
        meetings = meetings.exclude(status=MeetingStatus.PAPERS_ISSUED)
    packs_requested(meetings.values_list("pk", flat=True))


def _enqueue_build(meeting_id: int, notify: bool) -> None:
    from ..tasks import build_meeting_packs

    # With ``notify``, the event names this issue of papers in the outbox, so
    # a rerun of the build emails nobody twice.
    build_meeting_packs.enqueue(meeting_id, notify, uuid.uuid4().hex)


def pack_preparing(meeting: Meeting, pack: MeetingPack | None) -> bool:
    """Whether an organisation's pack (``pack``, None if none is stored) is
    being prepared: a build is queued or running, or the pack was built
    before the latest change. The meeting page then says so rather than
    offering the pack as current."""
    return meeting.packs_preparing or (pack is not None and pack.out_of_date)


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


def notes_since_last_meeting(
    referral: Referral, meeting: Meeting, organisation: Organisation
) -> list:
    """The case notes ``organisation`` may read, added since the case was
    last on an agenda before ``meeting`` (all of them for a first hearing)."""
    previous = (
        Meeting.objects.filter(
            agenda_items__referral=referral, starts_at__lt=meeting.starts_at
        )
        .exclude(status=MeetingStatus.CANCELLED)
        .order_by("-starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    notes = notes_for(Audience.of_organisation(organisation), referral)
    if previous is not None:
        notes = notes.filter(created_at__gte=previous)
    return list(notes)


def pack_context(meeting: Meeting, organisation: Organisation) -> dict:
    """Everything one organisation's pack shows: only its cases, redacted."""
    items = list(
        meeting.agenda_items.filter(invited=organisation)
        .select_related("referral__organisation", "referral__free_text_review")
        .order_by("position")
    )
    start = timezone.localtime(meeting.starts_at)
    # A restricted case is left out, and the pack says so (UK GDPR Article
    # 18; referrals.services.restriction).
    restricted_ids = set(
        CaseRestriction.objects.in_force()
        .filter(referral_id__in=[item.referral_id for item in items])
        .values_list("referral_id", flat=True)
    )
    cases, restricted = [], []
    for item in items:
        slot_start = start
        start += timedelta(minutes=item.slot_minutes)
        if item.referral_id in restricted_ids:
            restricted.append(item)
            continue
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
                "notes": notes_since_last_meeting(item.referral, meeting, organisation),
            }
        )
    return {
        "meeting": meeting,
        "organisation": organisation,
        "cases": cases,
        "restricted": restricted,
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


@dataclass
class _PackParts:
    """A pack's print HTML in parts: the front, without the contents' page
    numbers, and each case's section with its key (``PackSection``)."""

    context: dict
    front: str
    sections: list[tuple[str, str]]  # (key, html)

    @property
    def source(self) -> str:
        return _source_hash(self.front + "".join(k for k, _ in self.sections))


def _pack_parts(meeting: Meeting, organisation: Organisation) -> _PackParts:
    context = pack_context(meeting, organisation)
    marking = context["protective_marking"]
    sections = []
    for case in context["cases"]:
        html = render_to_string(
            "meetings/pdf/pack_case.html",
            {"case": case, "protective_marking": marking},
        )
        sections.append((_source_hash(html), html))
    front = render_to_string("meetings/pdf/pack_front.html", context)
    return _PackParts(context=context, front=front, sections=sections)


def _section_pdfs(parts: _PackParts, processes: int | None) -> list[PackSection]:
    """Each case's rendered section, rendering only those no pack has yet,
    side by side in ``processes`` (``html_to_pdfs``)."""
    keys = [key for key, _ in parts.sections]
    stored = {s.key: s for s in PackSection.objects.filter(key__in=keys)}
    missing = dict(parts.sections)
    for key in stored:
        del missing[key]
    # A failed render raises here: the pack keeps its last good version and
    # the build is marked failed (meetings.tasks), never half assembled.
    rendered = html_to_pdfs(list(missing.values()), processes=processes)
    pdfs = dict(zip(missing, rendered, strict=True))
    if pdfs:
        # Another build may store the same section meanwhile: either serves.
        PackSection.objects.bulk_create(
            [
                PackSection(key=k, pdf=pdf, pages=_page_count(pdf))
                for k, pdf in pdfs.items()
            ],
            ignore_conflicts=True,
        )
        for section in PackSection.objects.filter(key__in=pdfs).defer("pdf"):
            section.pdf = pdfs[section.key]
            stored[section.key] = section
    return [stored[key] for key in keys]


def _page_count(pdf: bytes) -> int:
    with pikepdf.open(io.BytesIO(pdf)) as document:
        return len(document.pages)


def _front_pdf(
    parts: _PackParts, sections: list[PackSection], front_pages: int
) -> bytes:
    """The front with the page each case starts on in the contents: after
    the front's own pages (``front_pages`` is a guess: the last pack's),
    which the numbers could change, so it is rendered again until they
    agree."""
    for attempt in range(4):
        page = front_pages + 1
        for case, section in zip(parts.context["cases"], sections, strict=True):
            case["page"] = page
            page += section.pages
        html = render_to_string("meetings/pdf/pack_front.html", parts.context)
        if attempt == 3:
            break
        pdf, pages = html_to_pdf_if_pages(html, front_pages)
        if pdf is not None:
            return pdf
        front_pages = pages
    return html_to_pdf(html)


def _pack_pdf(
    parts: _PackParts, last: MeetingPack | None, processes: int | None
) -> tuple[bytes, list[PackSection]]:
    """The pack assembled from its parts (``meetings.pack_pdf``); rendered
    whole, as before, if assembling fails."""
    sections = _section_pdfs(parts, processes)
    front_pages = 2  # the cover, then the agenda and contents
    if last is not None and (
        used := list(last.sections.values_list("pages", flat=True))
    ):
        front_pages = max(1, last.pages - sum(used))
    try:
        front = _front_pdf(parts, sections, front_pages)
        pdf = pack_assemble([front, *(bytes(s.pdf) for s in sections)])
    except Exception:
        logger.exception("Could not assemble a meeting pack; rendering it whole")
        for case in parts.context["cases"]:
            case.pop("page", None)
        pdf = html_to_pdf(render_to_string("meetings/pdf/pack.html", parts.context))
    return pdf, sections


def pack_build(
    meeting: Meeting, organisation: Organisation, *, version: int | None = None,
    processes: int | None = None,
) -> MeetingPack:  # fmt: skip
    """Build (or keep, if nothing changed) one organisation's pack, ready to
    be stamped on download (``watermark_prepare``). ``version`` is the
    meeting's ``packs_version`` read before anything the pack shows.

    Only sections no pack has rendered yet are rendered (``PackSection``):
    after a change to one case, its section and the front. They are rendered
    in ``processes`` (default ``PDF_RENDER_PROCESSES``; 1 in a request)."""
    if version is None:
        version = _packs_version(meeting)
    parts = _pack_parts(meeting, organisation)
    source = parts.source
    existing = MeetingPack.objects.filter(
        meeting=meeting, organisation=organisation
    ).first()
    if _pack_current(existing, source):
        if existing.meeting_version < version:
            MeetingPack.objects.filter(
                pk=existing.pk, meeting_version__lt=version
            ).update(meeting_version=version)
            existing.meeting_version = version
        return existing
    started = time.perf_counter()
    pdf, sections = _pack_pdf(parts, existing, processes)
    prepared = watermark_prepare(pdf)
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
            if pack.pk and pack.meeting_version > version:
                # A build that started after this one has already stored a
                # newer pack: keep it.
                transaction.on_commit(
                    lambda: objects_abandon(kind_for(MeetingPack, "file"), [name])
                )
                return pack
            old_name = pack.file.name if pack.pk else None
            pack.file.name = name
            pack.source_hash, pack.pages, pack.build_seconds = (
                source,
                prepared.pages,
                seconds,
            )
            pack.stamp = prepared.stamp
            pack.meeting_version = version
            pack.built_at = timezone.now()
            pack.save()
            pack.sections.set(sections)
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
    """Build every invited organisation's pack; drop packs of those uninvited.
    None for a meeting whose record is destroyed (``meetings.retention``)."""
    if meeting.disposed_at is not None:
        return []
    # Read before anything the packs show: a change committed after this
    # counts again, and queues another build.
    version = _packs_version(meeting)
    organisations = invited_organisations(meeting)
    try:
        packs = [
            pack_build(meeting, organisation, version=version)
            for organisation in organisations
        ]
    except Exception:
        # Each pack keeps its last good file; the meeting page says the packs
        # could not be prepared (``Meeting.packs_failed``), and the error
        # goes on to the task's log.
        Meeting.objects.filter(pk=meeting.pk, packs_failed_version__lt=version).update(
            packs_failed_version=version
        )
        raise
    stale = MeetingPack.objects.filter(meeting=meeting).exclude(
        organisation__in=organisations
    )
    for pack in stale:
        name, storage = pack.file.name, pack.file.storage
        pack.delete()
        storage.delete(name)
    Meeting.objects.filter(pk=meeting.pk, packs_built_version__lt=version).update(
        packs_built_version=version
    )
    pack_sections_sweep()
    return packs


def pack_sections_sweep(*, grace: timedelta = timedelta(hours=1)) -> int:
    """Delete rendered sections no pack uses; returns how many. Those younger
    than ``grace`` stay: a build running now may be about to use them."""
    deleted, _ = PackSection.objects.filter(
        packs__isnull=True, created_at__lt=timezone.now() - grace
    ).delete()
    return deleted


def _packs_version(meeting: Meeting) -> int:
    return (
        Meeting.objects.filter(pk=meeting.pk)
        .values_list("packs_version", flat=True)
        .get()
    )


def packs_delete_for_organisations(*, organisation_ids, reason: str) -> int:
    """Delete every meeting pack of these organisations, and its stored file,
    audited; returns how many (an organisation an ISA version dropped)."""
    deleted = 0
    for pack in MeetingPack.objects.filter(organisation_id__in=organisation_ids):
        name, storage = pack.file.name, pack.file.storage
        audit_record(
            action=MeetingAction.PACK_DELETED,
            obj=pack,
            detail={"meeting": pack.meeting_id, "organisation": pack.organisation_id,
                    "reason": reason},
        )  # fmt: skip
        pack.delete()
        transaction.on_commit(lambda name=name, storage=storage: storage.delete(name))
        deleted += 1
    pack_sections_sweep(grace=timedelta(0))
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


class PackClosed(MeetingRefused):
    """The pack can no longer be downloaded; ``reason`` is a code for the
    audit log, the message says why in plain words."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def pack_closed_for(
    meeting: Meeting, user: User, now: datetime | None = None
) -> PackClosed | None:
    """Why ``user`` may no longer download a pack of ``meeting``, or None.

    Agencies download packs until ``PACK_DOWNLOAD_DAYS_AFTER_MINUTES`` after
    the minutes are issued: a pack is for preparing for the meeting, and the
    minutes carry what it decided. Coordinators keep theirs until the
    meeting's retention period, to show what an agency was sent.
    """
    if meeting.disposed_at is not None:
        return PackClosed(
            f"{meeting.disposed_refusal} Destroy any copy of the pack you "
            "printed or saved.",
            reason="meeting_disposed",
        )
    if user.has_role(Role.COORDINATOR) or not meeting.pack_closed(now):
        return None
    closed = timezone.localtime(meeting.pack_closes_at)
    return PackClosed(
        f"Meeting packs could be downloaded until {closed.day} {closed:%B %Y}, "
        f"{settings.PACK_DOWNLOAD_DAYS_AFTER_MINUTES} days after the minutes "
        "were issued. The pack is closed now: the minutes record what the "
        "meeting decided. Destroy any copy of the pack you printed or saved.",
        reason="pack_closed",
    )


def pack_download(
    *, meeting: Meeting, organisation: Organisation, user: User,
    request: HttpRequest | None = None,
) -> PackDownload:  # fmt: skip
    """The organisation's pack, watermarked for ``user``; ``PackClosed``
    (audited) once the pack is closed to them (``pack_closed_for``), and
    ``ConfidentialityNotConfirmed`` (audited) until they have confirmed the
    confidentiality statement for the meeting.

    The background build keeps stored packs current (``packs_outdated``), so a
    download builds only a pack that is missing, lost from storage or prepared
    in an older format. Otherwise it reads one row and appends about a
    kilobyte to the stored file, whatever the pack's size.
    """
    if closed := pack_closed_for(meeting, user):
        audit_record(
            action=MeetingAction.PACK_DOWNLOAD_REFUSED,
            request=request,
            actor=user,
            obj=meeting,
            outcome=Outcome.DENIED,
            detail={"meeting": meeting.pk, "organisation": organisation.pk,
                    "reason": closed.reason},
        )  # fmt: skip
        raise closed
    # The stored pack and whether the reader confirmed the confidentiality
    # statement, in one query; the gate refuses before the pack is used.
    pack = (
        MeetingPack.objects.filter(meeting=meeting, organisation=organisation)
        .annotate(reader_confirmed=Exists(confirmations(meeting, user)))
        .first()
    )
    confidentiality_gate(
        meeting=meeting,
        organisation=organisation,
        user=user,
        refused_action=MeetingAction.PACK_DOWNLOAD_REFUSED,
        request=request,
        confirmed=None if pack is None else pack.reader_confirmed,
    )
    # Rendered in this process: forking a web worker that runs other threads
    # could copy a lock one of them holds (portal.pdf.html_to_pdfs).
    if pack is None or pack.stamp.get("format") != STAMP_FORMAT:
        pack = pack_build(meeting, organisation, processes=1)
    try:
        stored = stream_chunks(pack.file.storage, pack.file.name)
    except FileNotFoundError:
        # Lost, or replaced by a rebuild that committed after the row was read
        # (the old file is deleted then): pack_build finds or makes the file.
        logger.warning("Meeting pack %s had no file; building it", pack.pk)
        pack = pack_build(meeting, organisation, processes=1)
        stored = stream_chunks(pack.file.storage, pack.file.name)
    try:
        update = watermark_update(
            pack.stamp, watermark_text(user), source=lambda: pack.file.open("rb")
        )
        audit_record(
            action=MeetingAction.PACK_DOWNLOADED,
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
