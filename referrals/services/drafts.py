"""Drafts: starting, saving section by section, deleting (and their expiry),
what stops one being submitted, and submitting it as a referral."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from portal.derived import derived_work_merged

from ..answers import bind, raw_from_cleaned
from ..audit_actions import ReferralAction
from ..forms import SECTIONS, Section
from ..models import (
    EventKind,
    ReferenceCounter,
    Referral,
    ReferralDraft,
    ReferralPerson,
    SectionState,
    Status,
    Tombstone,
    name_key,
)
from ..repeats import repeat_flags_set
from ..tasks import NotificationKind
from ._common import ReferralRefused, _event, _locked_draft, _notify
from .attachments import _attachment_discard


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
        action=ReferralAction.DRAFT_STARTED,
        request=request,
        actor=user,
        obj=draft,
        detail={"from": from_referral.reference} if from_referral else {},
    )
    return draft


def _section(slug: str) -> Section:
    return next(section for section in SECTIONS if section.slug == slug)


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
        action=ReferralAction.DRAFT_AUTOSAVED
        if autosave
        else ReferralAction.DRAFT_SAVED,
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
        action=ReferralAction.DRAFT_DELETED, request=request, actor=user, obj=locked
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
                action=ReferralAction.DRAFT_EXPIRED,
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


# Submitting --------------------------------------------------------------------


def reference_allocate(*, year: int) -> tuple[int, str]:
    """The next reference in ``year`` as (number, "CM-YYYY-NNNN"), gapless.

    Taken inside the caller's transaction when there is one, so a rolled-back
    submission gives its number back; the counter row is locked until then.
    """
    with transaction.atomic():
        counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(
            year=year
        )
        counter.last_number += 1
        # A disposed case's reference is never given out again, nor one in
        # use, even if the counter were restored from an older backup.
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
    # The new case is indexed once, from its row, people and first event
    # together, rather than once for each of them (portal.derived).
    with transaction.atomic(), derived_work_merged():
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
            action=ReferralAction.SUBMITTED,
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
    number, reference = reference_allocate(year=year)
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
    # Whether it repeats an earlier referral, from the people just stored and
    # kept as at submission: the board counts the flag (referrals.repeats).
    repeat_flags_set(referrals=Referral.objects.filter(pk=referral.pk))
    referral.refresh_from_db(fields=["is_repeat"])
    draft.attachments.filter(referral__isnull=True).update(referral=referral)
    _event(referral, EventKind.SUBMITTED, "", Status.SUBMITTED, user, "")
    return referral
