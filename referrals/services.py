"""Business rules for referrals: drafts, submitting, and the screening workflow."""

import hashlib
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Organisation, Role, User
from audit.services import audit_record
from files.checks import CheckedFile, FileRefused, check_file
from files.scanning import ScanVerdict, virus_check
from files.stored import (
    StorageUnavailable,
    kind_for,
    object_present,
    object_write,
    objects_abandon,
    objects_kept,
)
from portal.forms import NULL_CHARACTER_MESSAGE, contains_null_character

from .answers import bind, raw_from_cleaned
from .forms import SECTIONS, Section
from .models import (
    AttachmentVisibility,
    EventKind,
    FreeTextReviewKind,
    ReferenceCounter,
    Referral,
    ReferralAttachment,
    ReferralDraft,
    ReferralEvent,
    ReferralFreeTextReview,
    ReferralPerson,
    ReferralShare,
    SectionState,
    ShareReason,
    Status,
    Tombstone,
    name_key,
)
from .redaction import default_visibility, is_flagged, needs_free_text_review
from .signals import shares_kept_on_close
from .tasks import NotificationKind

logger = logging.getLogger(__name__)


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


# Atomic: a draft whose audit event cannot be written (the audit chain's lock
# timed out) is not kept either.
@transaction.atomic
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

# Messages for the one file input on the page, as the GOV.UK pattern words them.
ATTACHMENT_SUBJECT = "The selected file"


def attachment_default_visibility(draft: ReferralDraft) -> str:
    """Restricted when the draft's consent page says "do not disclose" or
    "anonymous source" (raw form data: a ticked box is present)."""
    consent = draft.answers.get("consent") or {}
    return default_visibility(
        do_not_disclose=bool(consent.get("do_not_disclose")),
        anonymous_source=bool(consent.get("anonymous_source")),
    )


def attachment_add(
    *, draft: ReferralDraft, upload: UploadedFile, user: User,
    request: HttpRequest | None = None, visibility: str | None = None,
) -> ReferralAttachment:  # fmt: skip
    """Attach a file to the draft, after the same checks and virus scan as a
    shared file (files.checks), or ReferralRefused saying what is wrong.

    ``visibility`` is who may see it; without one, the draft's default.
    """
    if visibility is None:
        visibility = attachment_default_visibility(draft)
    if visibility not in AttachmentVisibility.values:
        raise ReferralRefused("Select who can see the file")
    try:
        checked = check_file(upload, subject=ATTACHMENT_SUBJECT)
    except FileRefused as exc:
        raise ReferralRefused(str(exc)) from exc
    _virus_check(upload, user, request)
    return _attachment_store(draft, upload, user, request, checked, visibility)


def _virus_check(upload: UploadedFile, user: User, request) -> None:
    verdict = virus_check(
        upload, user=user, request=request, audit_prefix="referral.attachment_"
    )
    if verdict == ScanVerdict.UNAVAILABLE:
        raise ReferralRefused(
            f"{ATTACHMENT_SUBJECT} could not be checked for viruses just now. "
            "Try again in a few minutes"
        )
    if verdict == ScanVerdict.INFECTED:
        raise ReferralRefused(f"{ATTACHMENT_SUBJECT} contains a virus")


def _attachment_store(
    draft, upload, user, request, checked: CheckedFile, visibility: str
):
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = ReferralAttachment(
        original_name=checked.display_name,
        content_type=checked.content_type,
        size=upload.size,
        sha256=digest.hexdigest(),
        visibility=visibility,
        uploaded_by=user,
    )
    # Written (its pending mark committed first) before the row's transaction,
    # under a name from the server (attachment_path): files.stored.
    try:
        object_write(attachment, "file", upload, filename=checked.display_name)
    except StorageUnavailable as exc:
        raise ReferralRefused(exc.message) from exc
    name = attachment.file.name
    try:
        with transaction.atomic():
            locked = _locked_draft(draft)
            attachment.draft = locked
            attachment.full_clean()
            attachment.save()
            objects_kept([name])
            audit_record(
                action="referral.attachment_added",
                request=request,
                actor=user,
                obj=attachment,
                detail={
                    "draft": str(locked.public_id),
                    "size": upload.size,
                    "visibility": visibility,
                },
            )
    except Exception:
        kind = kind_for(ReferralAttachment, "file")
        if not objects_abandon(kind, [name]):
            raise
        # The row committed but the reply was lost: report success only if
        # the file it refers to is there, whole.
        saved = ReferralAttachment.objects.get(file=name)
        if not object_present(kind, saved):
            raise ReferralRefused(ATTACHMENT_LOST_MESSAGE) from None
        return saved
    return attachment


ATTACHMENT_LOST_MESSAGE = (
    f"{ATTACHMENT_SUBJECT} was recorded but could not be stored. Remove it "
    "from the list and attach it again"
)


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
    # A disposed case's reference is never given out again, nor one in use,
    # even if the counter were restored from an older backup.
    while (
        Tombstone.objects.filter(year=year, number=counter.last_number).exists()
        or Referral.objects.filter(year=year, number=counter.last_number).exists()
    ):
        counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return counter.last_number, f"CM-{year}-{counter.last_number:04d}"


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
        transaction.on_commit(lambda: _notify(referral.pk, NotificationKind.SUBMITTED))
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


# Outcomes that end the case's shares (docs/features.md, "Who sees what").
CLOSING = (Status.REDIRECTED, Status.DECLINED, Status.CLOSED)


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
        if target == Status.ACCEPTED and needs_free_text_review(locked):
            raise FreeTextReviewNeeded(FREE_TEXT_REVIEW_NEEDED)
        locked.status = target
        locked.status_changed_at = timezone.now()
        if target in (Status.REDIRECTED, Status.DECLINED, Status.CLOSED):
            locked.outcome_reason = reason
            locked.closed_at = locked.status_changed_at
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
        if target in CLOSING:
            _shares_end_on_close(locked, user, target, request)
        audit_record(
            action="referral.status_changed",
            request=request,
            actor=user,
            obj=locked,
            detail={"from": current.value, "to": target.value},
        )
        if target in _REFERRER_TOLD:
            transaction.on_commit(lambda: _notify(locked.pk, NotificationKind.NEWS))
    return locked


# The free-text review ------------------------------------------------------------

FREE_TEXT_REVIEW_NEEDED = (
    "Before you accept this referral, confirm its free-text answers hold no "
    "identifying details of the people it protects, or write a summary for "
    "partner agencies"
)


class FreeTextReviewNeeded(ReferralRefused):
    """A flagged referral cannot be accepted before its free text is checked."""


def free_text_review_record(
    *, referral: Referral, user: User, kind: str, summary: str = "",
    request: HttpRequest | None = None,
) -> ReferralFreeTextReview:  # fmt: skip
    """A coordinator's check of a flagged referral's free text: confirmed to
    hold no identifying details, or replaced for other agencies by ``summary``
    (``referrals.redaction``). Recording again replaces the earlier check."""
    if not user.has_role(Role.COORDINATOR):
        raise ReferralRefused("Only coordinators can check a referral's free text.")
    summary = summary.strip()
    if kind not in FreeTextReviewKind.values:
        raise ReferralRefused(
            "Select whether the free text is safe to share or needs a summary"
        )
    if kind == FreeTextReviewKind.SUMMARY and not summary:
        raise ReferralRefused("Enter the summary for partner agencies")
    if kind == FreeTextReviewKind.CONFIRMED:
        summary = ""
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if not is_flagged(locked):
            raise ReferralRefused(
                'Only a referral marked "do not disclose" or "anonymous '
                'source" needs its free text checked.'
            )
        if not locked.is_open:
            raise ReferralRefused("This referral is closed.")
        review = ReferralFreeTextReview.objects.filter(
            referral=locked
        ).first() or ReferralFreeTextReview(referral=locked)
        review.kind = kind
        review.summary = summary
        review.reviewed_by = user
        review.reviewed_by_label = user.get_full_name() or user.get_username()
        review.reviewed_at = timezone.now()
        review.full_clean(validate_unique=False)
        review.save()
        audit_record(
            action="referral.free_text_reviewed",
            request=request,
            actor=user,
            obj=locked,
            detail={"kind": kind},
        )
    return review


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
        transaction.on_commit(lambda: _notify(locked.pk, NotificationKind.ANSWERED))
    return locked


def _notify(referral_id: int, kind: NotificationKind) -> None:
    from .tasks import send_referral_notifications

    # Names this event in the outbox, so a rerun of the task emails nobody twice.
    send_referral_notifications.enqueue(referral_id, kind, uuid.uuid4().hex)


# Sharing a case with other organisations -----------------------------------------
#
# The one place shares are granted, changed and ended: the meetings app, the
# case page, the daily job and the agreements hook all come here, and every
# change is audited. docs/features.md ("Who sees what") explains the rules.


def share_default_end(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(days=settings.REFERRAL_SHARE_DAYS)


def share_end_of_day(day: date) -> datetime:
    """The end of ``day`` on the local calendar: a share "until 5 March"
    gives access through that day."""
    start = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    return start - timedelta(microseconds=1)


def _coordinator_only(user: User, what: str) -> None:
    if not user.has_role(Role.COORDINATOR):
        raise ReferralRefused(f"Only coordinators can {what}.")


def _share_detail(share: ReferralShare, **extra) -> dict:
    return {
        "reference": share.referral.reference,
        "organisation": share.organisation_id,
        "reason": share.reason,
        "ends_at": share.ends_at.isoformat(),
        **extra,
    }


def _open_share(referral: Referral, organisation_id: int) -> ReferralShare | None:
    return (
        ReferralShare.objects.select_for_update()
        .filter(
            referral=referral, organisation_id=organisation_id, ended_at__isnull=True
        )
        .first()
    )


@transaction.atomic
def referral_share_grant(
    *, referral: Referral, organisation: Organisation, reason: str, user: User,
    ends_at: datetime | None = None, via_meeting: bool = False,
    request: HttpRequest | None = None,
) -> ReferralShare:  # fmt: skip
    """Let ``organisation`` see the case, for ``reason``, until ``ends_at``.

    A coordinator naming an organisation on the case (``via_meeting`` False)
    records its reason even where consent was not given; an invitation to a
    meeting shares a case only if consent was given or sharing without it was
    approved at screening, or a coordinator named the organisation already.
    An organisation that already has access keeps its share: a coordinator's
    grant records the new reason and any later end on it.
    """
    _coordinator_only(user, "share a case with another organisation")
    if organisation.pk == referral.organisation_id:
        raise ReferralRefused(f"{organisation} referred this case: it always sees it.")
    if reason not in ShareReason.values:
        raise ReferralRefused("Select why the organisation needs to see the case")
    now = timezone.now()
    ends_at = ends_at or share_default_end(now)
    if ends_at <= now:
        raise ReferralRefused("The end date must be in the future")
    share = _open_share(referral, organisation.pk)
    if share is not None and share.ends_at <= now:
        # Past its end but not yet ended by the daily job: end it first, so
        # the history shows the gap and the new grant stands on its own.
        _share_end(share, None, "The end date passed", now, request)
        share = None
    if share is not None:
        if via_meeting:
            return share
        share.reason, share.via_meeting = reason, False
        share.ends_at = max(share.ends_at, ends_at)
        share.full_clean()
        share.save(update_fields=["reason", "via_meeting", "ends_at"])
        audit_record(
            action="referral.share_changed", request=request, actor=user, obj=share,
            detail=_share_detail(share),
        )  # fmt: skip
        return share
    if via_meeting and referral.sharing_restricted:
        raise ReferralRefused(
            f"{referral.reference} cannot be shared with {organisation} by "
            "inviting it: the person did not consent to sharing and sharing "
            "without consent was not approved at screening. Record why "
            f"{organisation} needs to see the case under 'Who can see this "
            "case and why' on the case page first."
        )
    share = ReferralShare(
        referral=referral,
        organisation=organisation,
        reason=reason,
        via_meeting=via_meeting,
        granted_by=user,
        created_at=now,
        ends_at=ends_at,
    )
    share.full_clean()
    share.save()
    audit_record(
        action="referral.share_granted", request=request, actor=user, obj=share,
        detail=_share_detail(share, via_meeting=via_meeting),
    )  # fmt: skip
    return share


def _share_end(share, user, reason, now, request) -> None:
    share.ended_at, share.ended_by, share.end_reason = now, user, reason
    share.full_clean()
    share.save(update_fields=["ended_at", "ended_by", "end_reason"])
    audit_record(
        action="referral.share_ended", request=request, actor=user, obj=share,
        detail=_share_detail(share, end_reason=reason),
    )  # fmt: skip


@transaction.atomic
def referral_share_end(
    *, share: ReferralShare, reason: str, user: User | None = None,
    request: HttpRequest | None = None,
) -> ReferralShare:  # fmt: skip
    """End a share now. ``user`` None is the system (the daily job, closing
    a case, an organisation leaving the ISA); people must be coordinators."""
    if user is not None:
        _coordinator_only(user, "end another organisation's access")
    reason = reason.strip()
    if not reason:
        raise ReferralRefused("Enter why the organisation's access ends")
    locked = ReferralShare.objects.select_for_update().get(pk=share.pk)
    if locked.ended_at is None:
        _share_end(locked, user, reason, timezone.now(), request)
    return locked


@transaction.atomic
def referral_share_extend(
    *, share: ReferralShare, ends_at: datetime, reason: str, user: User,
    request: HttpRequest | None = None,
) -> ReferralShare:  # fmt: skip
    """Move a share's end (earlier or later), as a coordinator, saying why."""
    _coordinator_only(user, "change how long another organisation has access")
    reason = reason.strip()
    if not reason:
        raise ReferralRefused("Enter why the end date changes")
    if ends_at <= timezone.now():
        raise ReferralRefused("The end date must be in the future")
    locked = ReferralShare.objects.select_for_update().get(pk=share.pk)
    if not locked.in_force:
        raise ReferralRefused(
            f"{locked.organisation}'s access has already ended: share the case "
            "with it again instead."
        )
    before = locked.ends_at
    locked.ends_at = ends_at
    locked.full_clean()
    locked.save(update_fields=["ends_at"])
    audit_record(
        action="referral.share_extended", request=request, actor=user, obj=locked,
        detail=_share_detail(locked, before=before.isoformat(), why=reason),
    )  # fmt: skip
    return locked


def referral_shares_end(
    *, shares, reason: str, user: User | None = None,
    request: HttpRequest | None = None,
) -> int:  # fmt: skip
    """End each share in ``shares`` (a queryset) still open; returns how many."""
    ended = 0
    for share in shares.filter(ended_at__isnull=True).select_related("referral"):
        referral_share_end(share=share, reason=reason, user=user, request=request)
        ended += 1
    return ended


_CLOSING_REASONS = {
    Status.REDIRECTED: "The case was redirected to another panel",
    Status.DECLINED: "The referral was declined",
    Status.CLOSED: "The case was closed",
}


def _shares_end_on_close(referral, user, target, request) -> None:
    """End every share when a case closes, except those of organisations
    that still have work on it (they end when it is done)."""
    kept = set()
    for _receiver, organisations in shares_kept_on_close.send(
        sender=Referral, referral=referral
    ):
        kept |= set(organisations or ())
    referral_shares_end(
        shares=referral.shares.exclude(organisation_id__in=kept),
        reason=_CLOSING_REASONS[target],
        request=request,
    )


def referral_shares_end_expired(*, now: datetime | None = None) -> int:
    """The daily job: end the shares past their end date, and those of closed
    cases whose holders have no open work left (shares made before closing
    ended them, and those kept for actions since finished); returns how many."""
    now = now or timezone.now()
    ended = referral_shares_end(
        shares=ReferralShare.objects.filter(ends_at__lte=now),
        reason="The end date passed",
    )
    closed = Referral.objects.filter(
        status__in=CLOSING, shares__ended_at__isnull=True
    ).distinct()
    for referral in closed:
        with transaction.atomic():
            locked = Referral.objects.select_for_update().get(pk=referral.pk)
            before = locked.shares.filter(ended_at__isnull=True).count()
            _shares_end_on_close(locked, None, Status(locked.status), None)
            ended += before - locked.shares.filter(ended_at__isnull=True).count()
    return ended


@transaction.atomic
def sharing_without_consent_approve(
    *, referral: Referral, reason: str, user: User,
    request: HttpRequest | None = None,
) -> Referral:  # fmt: skip
    """At screening, a coordinator records that sharing without consent is
    justified, and why: invitations to meetings then share the case."""
    _coordinator_only(user, "approve sharing without consent")
    reason = reason.strip()
    if not reason:
        raise ReferralRefused("Enter why sharing without consent is justified")
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if locked.consent_given:
        raise ReferralRefused("The person consented: there is nothing to approve.")
    if not locked.is_open:
        raise ReferralRefused("This case is no longer open.")
    if locked.sharing_without_consent_approved_at is not None:
        raise ReferralRefused("Sharing without consent is already approved.")
    locked.sharing_without_consent_approved_at = timezone.now()
    locked.sharing_without_consent_approved_by = user
    locked.sharing_without_consent_reason = reason
    locked.full_clean()
    locked.save(
        update_fields=[
            "sharing_without_consent_approved_at",
            "sharing_without_consent_approved_by",
            "sharing_without_consent_reason",
        ]
    )
    audit_record(
        action="referral.sharing_without_consent_approved",
        request=request,
        actor=user,
        obj=locked,
    )
    return locked
