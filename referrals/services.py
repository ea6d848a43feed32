"""Business rules for referrals: drafts, submitting, and the screening workflow."""

import hashlib
import logging
import re
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Role, User
from audit.services import audit_record
from documents import scanning
from portal.forms import NULL_CHARACTER_MESSAGE, contains_null_character

from .answers import bind, raw_from_cleaned
from .forms import SECTIONS, Section
from .models import (
    EventKind,
    ReferenceCounter,
    Referral,
    ReferralAttachment,
    ReferralDraft,
    ReferralEvent,
    ReferralPerson,
    SectionState,
    Status,
)

logger = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


class ReferralRefused(Exception):
    """The action is not allowed; the message says why, in plain words."""


@dataclass(frozen=True)
class Problem:
    section: Section
    anchor: str
    message: str


class DraftConflict(Exception):
    """The page was saved elsewhere after it was shown (another window, or an
    autosave overtaken by a real save); nothing was changed."""


class DraftIncomplete(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


# Drafts ------------------------------------------------------------------------

# Sections copied when a referral is started from an earlier one. Eligibility,
# consent and the lawful basis are decided afresh for every referral.
_COPIED_SECTIONS = ("people", "household", "risk", "actions")


def draft_start(
    *, user: User, request: HttpRequest | None = None,
    from_referral: Referral | None = None,
) -> ReferralDraft:  # fmt: skip
    """A new draft for ``user``, empty or pre-filled from their organisation's
    earlier referral (never another organisation's)."""
    if user.organisation_id is None:
        raise ReferralRefused("Only staff of a partner organisation can refer.")
    draft = ReferralDraft(owner=user, organisation_id=user.organisation_id)
    if from_referral is not None:
        if from_referral.organisation_id != user.organisation_id:
            raise ReferralRefused(
                "You can only start from a referral your own organisation made."
            )
        draft.started_from = from_referral
        for slug in _COPIED_SECTIONS:
            section = _section(slug)
            draft.answers[slug] = raw_from_cleaned(
                section, from_referral.answers.get(slug, {})
            )
            draft.states[slug] = SectionState.IN_PROGRESS
        draft.answers["referral-type"] = {"kind": ["repeat"]}
        draft.states["referral-type"] = SectionState.IN_PROGRESS
    draft.full_clean()
    draft.save()
    audit_record(
        action="referral.draft_started",
        request=request,
        actor=user,
        obj=draft,
        detail={"from": from_referral.reference} if from_referral else {},
    )
    return draft


def _section(slug: str) -> Section:
    return next(section for section in SECTIONS if section.slug == slug)


def _locked_draft(draft: ReferralDraft) -> ReferralDraft:
    locked = ReferralDraft.objects.select_for_update().get(pk=draft.pk)
    if locked.is_submitted:
        raise ReferralRefused(
            f"This referral was already submitted as {locked.referral.reference}."
        )
    return locked


@transaction.atomic
def draft_save(
    *, draft: ReferralDraft, section: Section, raw: dict, user: User,
    request: HttpRequest | None = None, autosave: bool = False,
    revision: int | None = None,
) -> bool:  # fmt: skip
    """Keep what was typed on a section page; returns whether it is complete.

    Invalid answers are kept too, so the page comes back as it was left.
    ``revision`` is the section's revision the page was shown with: if the
    section was saved since, DraftConflict is raised and nothing changes.
    """
    locked = _locked_draft(draft)
    if revision is not None and revision != locked.revision(section.slug):
        raise DraftConflict(section.slug)
    complete = bind(section, raw).is_valid()
    locked.answers[section.slug] = raw
    locked.states[section.slug] = (
        SectionState.COMPLETED if complete else SectionState.IN_PROGRESS
    )
    locked.revisions[section.slug] = locked.revision(section.slug) + 1
    locked.updated_at = timezone.now()
    locked.save(update_fields=["answers", "states", "revisions", "updated_at"])
    draft.answers, draft.states = locked.answers, locked.states
    draft.revisions = locked.revisions
    audit_record(
        action="referral.draft_autosaved" if autosave else "referral.draft_saved",
        request=request,
        actor=user,
        obj=locked,
        detail={"section": section.slug, "complete": complete},
    )
    return complete


@transaction.atomic
def draft_delete(
    *, draft: ReferralDraft, user: User, request: HttpRequest | None = None
) -> None:
    locked = _locked_draft(draft)
    for attachment in locked.attachments.filter(referral__isnull=True):
        _attachment_discard(attachment)
    audit_record(
        action="referral.draft_deleted", request=request, actor=user, obj=locked
    )
    locked.delete()


def drafts_delete_stale(*, now=None) -> int:
    """Delete drafts nobody has changed for the retention period; returns how
    many. Submitted drafts hold no answers and are left as the link to their
    referral."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REFERRAL_DRAFT_RETENTION_DAYS)
    deleted = 0
    stale = ReferralDraft.objects.filter(referral__isnull=True, updated_at__lt=cutoff)
    for draft_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            draft = (
                ReferralDraft.objects.select_for_update()
                .filter(pk=draft_id, referral__isnull=True, updated_at__lt=cutoff)
                .first()
            )
            if draft is None:  # saved or submitted since the list was read
                continue
            for attachment in draft.attachments.filter(referral__isnull=True):
                _attachment_discard(attachment)
            audit_record(
                action="referral.draft_expired",
                obj=draft,
                detail={
                    "owner": draft.owner_id,
                    "last_saved": draft.updated_at.isoformat(),
                },
            )
            draft.delete()
            deleted += 1
    return deleted


def draft_problems(draft: ReferralDraft) -> list[Problem]:
    """What stops the draft being submitted, section by section."""
    problems = []
    for section in SECTIONS:
        raw = draft.answers.get(section.slug)
        if raw is None:
            problems.append(
                Problem(section, "", f"Complete the section: {section.title}")
            )
            continue
        bound = bind(section, raw)
        if not bound.is_valid():
            problems += [
                Problem(section, anchor, message) for anchor, message in bound.errors()
            ]
    return problems


# Attachments -------------------------------------------------------------------

_ACCEPTED_TYPES = {
    "application/pdf": "PDF",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word",
    "application/msword": "Word",
    "application/vnd.oasis.opendocument.text": "OpenDocument",
}


def sniff_type(head: bytes, upload) -> str | None:
    """The file's real type from its first bytes, not from its name."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/msword"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
                if "mimetype" in names:
                    mimetype = archive.read("mimetype").decode("ascii", "replace")
                    if mimetype.strip() == "application/vnd.oasis.opendocument.text":
                        return mimetype.strip()
                if "word/document.xml" in names:
                    return (
                        "application/vnd.openxmlformats-officedocument."
                        "wordprocessingml.document"
                    )
        except zipfile.BadZipFile:
            return None
        finally:
            upload.seek(0)
    return None


def attachment_check(upload: UploadedFile) -> str:
    """The upload's content type, or ReferralRefused saying what is wrong."""
    if upload.size == 0:
        raise ReferralRefused("The selected file is empty")
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise ReferralRefused("The selected file must be smaller than 10 MB")
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff_type(head, upload)
    if content_type is None:
        raise ReferralRefused("The selected file must be a PDF, Word or OpenDocument")
    return content_type


def _virus_check(upload: UploadedFile, user: User, request) -> None:
    """Scan with ClamAV where it is configured (documents.services)."""
    from documents.services import virus_check

    if not scanning.scanner_configured():
        return
    verdict = virus_check(
        upload, user=user, request=request, audit_prefix="referral.attachment_"
    )
    if verdict == "unavailable":
        raise ReferralRefused(
            "The selected file could not be checked for viruses just now. "
            "Try again in a few minutes"
        )
    if verdict == "infected":
        raise ReferralRefused("The selected file contains a virus")


def attachment_add(
    *, draft: ReferralDraft, upload: UploadedFile, user: User,
    request: HttpRequest | None = None,
) -> ReferralAttachment:  # fmt: skip
    content_type = attachment_check(upload)
    _virus_check(upload, user, request)
    return _attachment_store(draft, upload, user, request, content_type)


@transaction.atomic
def _attachment_store(draft, upload, user, request, content_type):
    locked = _locked_draft(draft)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = re.sub(r"[^\w.\- ]", "_", upload.name.rsplit("/", 1)[-1])[:150] or "file"
    attachment = ReferralAttachment(
        draft=locked,
        original_name=name,
        content_type=content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=user,
    )
    attachment.file.save(name, upload, save=False)
    # The file is on disk before the row exists: remove it if the row fails.
    try:
        attachment.full_clean()
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    audit_record(
        action="referral.attachment_added",
        request=request,
        actor=user,
        obj=attachment,
        detail={"draft": str(locked.public_id), "size": upload.size},
    )
    return attachment


def _attachment_discard(attachment: ReferralAttachment) -> None:
    name = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def attachment_remove(
    *, draft: ReferralDraft, attachment: ReferralAttachment, user: User,
    request: HttpRequest | None = None,
) -> None:  # fmt: skip
    _locked_draft(draft)
    if attachment.draft_id != draft.pk or attachment.referral_id is not None:
        raise ReferralRefused("That file is not attached to this draft.")
    audit_record(
        action="referral.attachment_removed",
        request=request,
        actor=user,
        obj=attachment,
        detail={"draft": str(draft.public_id)},
    )
    _attachment_discard(attachment)


# Submitting --------------------------------------------------------------------


def _allocate_reference(year: int) -> tuple[int, str]:
    """The next number in the year, gapless: taken inside the caller's
    transaction, so a rolled-back submission gives its number back."""
    counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number, f"CM-{year}-{counter.last_number:04d}"


def name_key(name: str) -> str:
    """Lower-case letters only, words sorted: matches despite punctuation and order.

    Apostrophes join (O'Brien is obrien); other punctuation separates words.
    """
    words = re.findall(r"[^\W\d_]+", re.sub(r"['\u2019]", "", name.casefold()))
    return " ".join(sorted(words))


def referral_submit(
    *, draft: ReferralDraft, user: User, request: HttpRequest | None = None
) -> tuple[Referral, bool]:
    """Turn a complete draft into a referral; returns it and whether it is new.

    A double click or a resubmitted page finds the referral the first submit
    made, so one draft never makes two referrals.
    """
    with transaction.atomic():
        locked = ReferralDraft.objects.select_for_update().get(pk=draft.pk)
        # Owner first: a submitted draft must not hand its referral to anyone else.
        if locked.owner_id != user.pk:
            raise ReferralRefused("Only the person who wrote a draft can submit it.")
        if locked.is_submitted:
            return locked.referral, False
        problems = draft_problems(locked)
        if problems:
            raise DraftIncomplete(problems)
        answers = {
            section.slug: bind(section, locked.answers[section.slug]).cleaned()
            for section in SECTIONS
        }
        referral = _referral_create(locked, answers, user)
        locked.referral = referral
        locked.answers, locked.states = {}, {}
        locked.updated_at = timezone.now()
        locked.save(update_fields=["referral", "answers", "states", "updated_at"])
        audit_record(
            action="referral.submitted",
            request=request,
            actor=user,
            obj=referral,
            detail={"reference": referral.reference, "urgent": referral.urgent},
        )
        transaction.on_commit(lambda: _notify(referral.pk, "submitted"))
    return referral, True


def _referral_create(draft: ReferralDraft, answers: dict, user: User) -> Referral:
    now = timezone.now()
    year = timezone.localdate(now).year
    number, reference = _allocate_reference(year)
    eligibility = answers["eligibility"]["fields"]
    risk = answers["risk"]["fields"]
    consent = answers["consent"]["fields"]
    referral = Referral(
        reference=reference,
        year=year,
        number=number,
        organisation_id=draft.organisation_id,
        referrer=user,
        status=Status.SUBMITTED,
        urgent=eligibility.get("urgent") == "yes",
        risk_level=risk["risk_level"],
        asb_types=risk.get("asb_types", []),
        do_not_disclose=bool(consent.get("do_not_disclose")),
        anonymous_source=bool(consent.get("anonymous_source")),
        answers=answers,
        submitted_at=now,
        status_changed_at=now,
        started_from=draft.started_from,
    )
    referral.full_clean()
    referral.save(force_insert=True)
    ReferralPerson.objects.bulk_create(
        ReferralPerson(
            referral=referral,
            position=position,
            role=person["role"],
            full_name=person["full_name"],
            name_key=name_key(person["full_name"]),
            date_of_birth=(
                date.fromisoformat(person["date_of_birth"])
                if person.get("date_of_birth")
                else None
            ),
            age=person.get("age"),
        )
        for position, person in enumerate(answers["people"]["people"], start=1)
    )
    draft.attachments.filter(referral__isnull=True).update(referral=referral)
    _event(referral, EventKind.SUBMITTED, "", Status.SUBMITTED, user, "")
    return referral


def _event(referral, kind, from_status, to_status, user, message) -> ReferralEvent:
    event = ReferralEvent(
        referral=referral,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=user,
        actor_label=user.get_full_name() or user.get_username(),
        organisation_label=str(user.organisation or ""),
        at=timezone.now(),
        message=message,
    )
    event.full_clean()
    event.save()
    return event


# The workflow -------------------------------------------------------------------

# Where each status may go next, and what a coordinator must say to get there.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.SUBMITTED: (Status.SCREENING,),
    Status.SCREENING: (
        Status.INFORMATION_REQUESTED,
        Status.ACCEPTED,
        Status.REDIRECTED,
        Status.DECLINED,
    ),
    Status.INFORMATION_REQUESTED: (Status.SCREENING,),
    Status.ACCEPTED: (Status.CLOSED,),
    Status.REDIRECTED: (),
    Status.DECLINED: (),
    Status.CLOSED: (),
}

NEEDS_REASON = {
    Status.INFORMATION_REQUESTED: "Enter what information you need",
    Status.REDIRECTED: "Enter why the case belongs with that panel",
    Status.DECLINED: "Enter why the referral is declined",
    Status.CLOSED: "Enter why the case is closing",
}

# What the referrer is emailed about (the email says only that there is news).
_REFERRER_TOLD = {
    Status.INFORMATION_REQUESTED,
    Status.ACCEPTED,
    Status.REDIRECTED,
    Status.DECLINED,
    Status.CLOSED,
}


def allowed_next(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


def referral_transition(
    *, referral: Referral, to_status: str, user: User, expected_status: str,
    reason: str = "", redirected_to: str = "", feedback: str = "",
    request: HttpRequest | None = None,
) -> Referral:  # fmt: skip
    """Move a referral on in the workflow, as a coordinator.

    ``expected_status`` is the status the coordinator saw: if someone else has
    moved the referral since, nothing changes and the message says so.
    """
    if not user.has_role(Role.COORDINATOR):
        raise ReferralRefused("Only coordinators can change a referral's status.")
    reason, redirected_to, feedback = (
        reason.strip(),
        redirected_to.strip(),
        feedback.strip(),
    )
    if contains_null_character([reason, redirected_to, feedback]):
        raise ReferralRefused(NULL_CHARACTER_MESSAGE)  # PostgreSQL cannot keep it
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        current = Status(locked.status)
        if current != expected_status:
            raise ReferralRefused(
                f"Someone else changed this referral to "
                f"'{current.label}' while you were looking at it. Check the "
                "latest details before you change it."
            )
        if to_status not in Status.values:
            raise ReferralRefused("Select a new status")
        target = Status(to_status)
        if target not in allowed_next(current):
            raise ReferralRefused(
                f"A referral that is '{current.label}' cannot be moved to "
                f"'{target.label}'."
            )
        # One form posts every field: a panel typed before choosing another
        # outcome must not appear in the history of, say, an accepted referral.
        if target != Status.REDIRECTED:
            redirected_to = ""
        if target != Status.CLOSED:
            feedback = ""
        if target in NEEDS_REASON and not reason:
            raise ReferralRefused(NEEDS_REASON[target])
        if target == Status.REDIRECTED and not redirected_to:
            raise ReferralRefused("Enter which panel the case is redirected to")
        if target == Status.CLOSED and not feedback:
            raise ReferralRefused("Enter the feedback for the referrer")
        locked.status = target
        locked.status_changed_at = timezone.now()
        if target in (Status.REDIRECTED, Status.DECLINED, Status.CLOSED):
            locked.outcome_reason = reason
        if target == Status.REDIRECTED:
            locked.redirected_to = redirected_to
        if target == Status.CLOSED:
            locked.feedback = feedback
        locked.full_clean()
        locked.save()
        kind = (
            EventKind.INFORMATION_REQUESTED
            if target == Status.INFORMATION_REQUESTED
            else EventKind.TRANSITION
        )
        message = "\n\n".join(
            part
            for part in (
                f"Redirected to: {redirected_to}" if redirected_to else "",
                reason,
                f"Feedback to the referrer: {feedback}" if feedback else "",
            )
            if part
        )
        _event(locked, kind, current, target, user, message)
        audit_record(
            action="referral.status_changed",
            request=request,
            actor=user,
            obj=locked,
            detail={"from": current.value, "to": target.value},
        )
        if target in _REFERRER_TOLD:
            transaction.on_commit(lambda: _notify(locked.pk, "news"))
    return locked


def information_provide(
    *, referral: Referral, user: User, message: str,
    request: HttpRequest | None = None,
) -> Referral:  # fmt: skip
    """The referrer's organisation answers a request for more information.

    The referral goes back to screening and the coordinators are told.
    """
    message = message.strip()
    if not message:
        raise ReferralRefused("Enter the information the coordinator asked for")
    if contains_null_character(message):
        raise ReferralRefused(NULL_CHARACTER_MESSAGE)  # PostgreSQL cannot keep it
    if user.organisation_id != referral.organisation_id or not user.has_role(
        Role.REFERRER
    ):
        raise ReferralRefused(
            "Only staff of the referring organisation can answer this request."
        )
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status != Status.INFORMATION_REQUESTED:
            raise ReferralRefused(
                "The coordinator is not waiting for information on this referral "
                "now. Your answer was not sent."
            )
        locked.status = Status.SCREENING
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=["status", "status_changed_at"])
        _event(
            locked,
            EventKind.INFORMATION_PROVIDED,
            Status.INFORMATION_REQUESTED,
            Status.SCREENING,
            user,
            message,
        )
        audit_record(
            action="referral.information_provided",
            request=request,
            actor=user,
            obj=locked,
        )
        transaction.on_commit(lambda: _notify(locked.pk, "answered"))
    return locked


def _notify(referral_id: int, kind: str) -> None:
    from .tasks import send_referral_notifications

    send_referral_notifications.enqueue(referral_id, kind)
