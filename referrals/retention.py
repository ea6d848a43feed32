"""Retention of case material: closure, legal holds, disposal and tombstones.

A case's retention period runs from its closure (``Referral.closed_at``) for
the months the Information Sharing Agreement in force that day says
(``agreements.retention``). Thirty days before, coordinators see it coming and
may place a legal hold; on the day, ``manage.py apply_retention`` destroys
every row holding the case's content and leaves a ``Tombstone``.

Content the case has in other apps (agenda items, actions and packs in
meetings; shared files in documents) is destroyed by those apps, which listen
for ``referrals.signals.case_disposing``: referrals imports neither.
"""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Max, Q
from django.db.models.functions import Coalesce, Greatest
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Role, User
from agreements.retention import RetentionSchedule, retention_in_force
from agreements.services import add_months
from audit.services import audit_record
from files.stored import kind_for, objects_delete

from .audit_actions import ReferralAction
from .models import (
    OPEN_STATUSES,
    CaseNote,
    CaseRestriction,
    DisposalReason,
    LegalHold,
    Referral,
    ReferralAmendment,
    ReferralAttachment,
    ReferralDraft,
    ReferralFreeTextReview,
    RetentionRun,
    Tombstone,
)
from .signals import case_disposing, records_disposing, retention_sections

logger = logging.getLogger(__name__)


class RetentionRefused(Exception):
    """A hold cannot be placed or removed; the message says why."""


# What a disposal destroys --------------------------------------------------------


def rows_snapshot(rows) -> list[dict]:
    """Every concrete field of each row, as JSON-safe values, in primary-key
    order: what the tombstone's hash covers."""
    snapshot = []
    for row in sorted(rows, key=lambda row: (type(row).__name__, row.pk)):
        values = {"model": row._meta.label_lower}
        for model_field in row._meta.concrete_fields:
            value = model_field.value_from_object(row)
            if isinstance(model_field, models.FileField):
                value = value.name if value else ""
            values[model_field.attname] = value
        snapshot.append(values)
    return snapshot


@dataclass
class Destroyed:
    """What one app destroyed of a case: counts by kind, and the rows as they
    were (``rows_snapshot``)."""

    counts: dict[str, int] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)

    def add(self, name: str, rows) -> None:
        rows = list(rows)
        self.counts[name] = self.counts.get(name, 0) + len(rows)
        self.rows += rows_snapshot(rows)


def content_hash(rows: list[dict]) -> str:
    """SHA-256 of the canonical JSON of the destroyed rows."""
    text = json.dumps(
        rows, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder
    )
    return hashlib.sha256(text.encode()).hexdigest()


# When a case is due ---------------------------------------------------------------


def disposal_date(closed_at: datetime, months: int) -> date:
    """The first day a case closed at ``closed_at`` may be disposed of."""
    return add_months(timezone.localdate(closed_at), months)


def _closed_on_or_before(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _latest_closure_due_by(day: date, months: int) -> date:
    """The latest closing date whose disposal date is on or before ``day``.
    ``add_months`` clamps to a month's end, so step from a first guess."""
    guess = add_months(day, -months)
    while add_months(guess, months) > day:
        guess -= timedelta(days=1)
    while add_months(guess + timedelta(days=1), months) <= day:
        guess += timedelta(days=1)
    return guess


def period_cutoff(day: date, months: int) -> datetime:
    """Records whose period of ``months`` runs from a time before this are
    due on ``day``: the start of the day after the latest date due by then.
    One rule for every kind (cases from closure, shares from sharing,
    meetings from their date)."""
    return _closed_on_or_before(_latest_closure_due_by(day, months))


def ended_by(day: date) -> datetime:
    """The moment "by ``day``" means: now for today, the end of the day when
    the job is asked about another day (time-travel tests, dry runs)."""
    end = _closed_on_or_before(day)
    return min(end, timezone.now()) if day == timezone.localdate() else end


def cases_due_by(day: date, schedule: RetentionSchedule):
    """Closed cases whose disposal date under ``schedule`` is on or before
    ``day``, oldest first, held or not."""
    return (
        Referral.objects.exclude(status__in=OPEN_STATUSES)
        .filter(closed_at__lt=period_cutoff(day, schedule.case_months))
        .order_by("closed_at", "pk")
    )


def held_referral_ids():
    """The ids of cases on legal hold, as a subquery."""
    return LegalHold.objects.filter(removed_at__isnull=True).values("referral_id")


def standing_hold_q() -> Q:
    return Q(legal_holds__removed_at__isnull=True, legal_holds__isnull=False)


@dataclass(frozen=True)
class DueCase:
    referral: Referral
    disposal_date: date
    hold: LegalHold | None

    @property
    def overdue(self) -> bool:
        return self.disposal_date <= timezone.localdate()


def disposal_review(today: date | None = None) -> tuple[RetentionSchedule | None, list]:
    """The cases due for disposal within ``RETENTION_REVIEW_DAYS`` (or already
    due), each with its date and standing hold, for coordinators."""
    today = today or timezone.localdate()
    schedule = retention_in_force(today)
    if schedule is None:
        return None, []
    horizon = today + timedelta(days=settings.RETENTION_REVIEW_DAYS)
    referrals = cases_due_by(horizon, schedule).select_related("organisation")
    holds = {
        hold.referral_id: hold
        for hold in LegalHold.objects.filter(
            referral__in=referrals, removed_at__isnull=True
        ).select_related("placed_by")
    }
    return schedule, [
        DueCase(
            referral=referral,
            disposal_date=disposal_date(referral.closed_at, schedule.case_months),
            hold=holds.get(referral.pk),
        )
        for referral in referrals
    ]


def referrals_inactive(now: datetime | None = None):
    """Open referrals nothing has happened to for ``REFERRAL_INACTIVE_MONTHS``:
    no status change, history entry or meeting. They are listed for
    coordinators to close, since retention runs only from closure."""
    now = now or timezone.now()
    since = timezone.make_aware(
        datetime.combine(
            add_months(timezone.localdate(now), -settings.REFERRAL_INACTIVE_MONTHS),
            time.min,
        )
    )
    return (
        Referral.objects.filter(status__in=OPEN_STATUSES)
        .annotate(
            last_activity=Greatest(
                "status_changed_at",
                Coalesce(Max("events__at"), "status_changed_at"),
                Coalesce(Max("agenda_items__meeting__starts_at"), "status_changed_at"),
            )
        )
        .filter(last_activity__lt=since)
        .select_related("organisation")
        .order_by("last_activity", "pk")
    )


# Legal holds ----------------------------------------------------------------------


def _coordinator_only(user: User) -> None:
    if not user.has_role(Role.COORDINATOR):
        raise RetentionRefused("Only coordinators can place or remove legal holds.")


def legal_hold_place(
    *, referral: Referral, user: User, reason: str, review_date: date,
    request: HttpRequest | None = None,
) -> LegalHold:  # fmt: skip
    """Suspend disposal of a case until the hold is removed."""
    _coordinator_only(user)
    reason = reason.strip()
    if not reason:
        raise RetentionRefused("Enter why the case must be kept")
    if "\x00" in reason:
        raise RetentionRefused("Remove the unusual characters from the reason")
    if review_date <= timezone.localdate():
        raise RetentionRefused("Enter a review date in the future")
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.legal_holds.filter(removed_at__isnull=True).exists():
            raise RetentionRefused("This case is already on legal hold")
        hold = LegalHold(
            referral=locked, reason=reason, review_date=review_date, placed_by=user
        )
        hold.full_clean()
        hold.save()
        audit_record(
            action=ReferralAction.LEGAL_HOLD_PLACED,
            request=request,
            actor=user,
            obj=locked,
            detail={"hold": hold.pk, "review_date": review_date.isoformat()},
        )
    return hold


def legal_hold_remove(
    *, hold: LegalHold, user: User, reason: str, request: HttpRequest | None = None
) -> LegalHold:
    """End a hold; the case is disposed of at the next run if it is due."""
    _coordinator_only(user)
    reason = reason.strip()
    if not reason:
        raise RetentionRefused("Enter why the hold is no longer needed")
    if "\x00" in reason:
        raise RetentionRefused("Remove the unusual characters from the reason")
    with transaction.atomic():
        locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if locked.removed_at is not None:
            raise RetentionRefused("This hold has already been removed")
        locked.removed_at, locked.removed_by = timezone.now(), user
        locked.removal_reason = reason
        locked.full_clean()
        locked.save()
        audit_record(
            action=ReferralAction.LEGAL_HOLD_REMOVED,
            request=request,
            actor=user,
            obj=locked.referral,
            detail={"hold": locked.pk},
        )
    return locked


def legal_holds_standing():
    return (
        LegalHold.objects.filter(removed_at__isnull=True)
        .select_related("referral", "placed_by")
        .order_by("review_date", "pk")
    )


# Disposal -------------------------------------------------------------------------


def referral_dispose(
    *, referral: Referral, schedule: RetentionSchedule, authorised_by: str,
    reason: str = DisposalReason.RETENTION,
) -> Tombstone:  # fmt: skip
    """Destroy every row holding the case's content, here and (through
    ``case_disposing``) in other apps, and leave its tombstone. One
    transaction: all of it goes, or none. Stored files are deleted once it
    commits; one that cannot be is unreferenced, so ``sweep_storage`` takes it.
    """
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.legal_holds.filter(removed_at__isnull=True).exists():
            raise RetentionRefused(f"{locked.reference} is on legal hold")
        destroyed = Destroyed()
        for _receiver, answer in case_disposing.send(sender=Referral, referral=locked):
            destroyed.counts.update(answer.counts)
            destroyed.rows += answer.rows
        attachments = list(ReferralAttachment.objects.filter(referral=locked))
        destroyed.add("attachments", attachments)
        destroyed.add("people", locked.people.all())
        destroyed.add("history_entries", locked.events.all())
        destroyed.add("case_shares", locked.shares.all())
        destroyed.add(
            "free_text_reviews", ReferralFreeTextReview.objects.filter(referral=locked)
        )
        destroyed.add("drafts", ReferralDraft.objects.filter(referral=locked))
        destroyed.add("legal_holds", locked.legal_holds.all())
        # Corrections keep the old and new answers, restrictions the reason:
        # both personal data, destroyed with the case.
        amendments = ReferralAmendment.objects.filter(referral=locked)
        restrictions = CaseRestriction.objects.filter(referral=locked)
        notes = CaseNote.objects.filter(referral=locked)
        destroyed.add("amendments", amendments)
        destroyed.add("restrictions", restrictions)
        destroyed.add("case_notes", notes)
        destroyed.add("referrals", [locked])
        attachment_kind = kind_for(ReferralAttachment, "file")
        names = [a.file.name for a in attachments if a.file]
        ReferralAttachment.objects.filter(referral=locked).delete()
        ReferralDraft.objects.filter(referral=locked).delete()
        locked.legal_holds.all().delete()
        amendments.delete()
        restrictions.delete()
        notes.delete()
        tombstone = Tombstone(
            reference=locked.reference,
            year=locked.year,
            number=locked.number,
            submitted_at=locked.submitted_at,
            # An open case erased on request closes as it goes.
            closed_at=locked.closed_at or timezone.now(),
            agreement_version=schedule.version_label,
            period_months=schedule.case_months,
            counts=destroyed.counts,
            content_hash=content_hash(destroyed.rows),
            authorised_by=authorised_by,
            reason=reason,
        )
        locked.delete()
        tombstone.full_clean()
        tombstone.save(force_insert=True)
        audit_record(
            action=ReferralAction.DISPOSED,
            obj=tombstone,
            detail={
                "reference": tombstone.reference,
                "agreement_version": schedule.version_label,
                "content_hash": tombstone.content_hash,
                "reason": tombstone.reason,
            },
        )
        objects_delete(attachment_kind, names)
    return tombstone


@dataclass
class RecordsDisposed:
    """What one app's run destroyed of the records on its own period (or, in
    a dry run, would): labels free of personal data, for the command's
    report."""

    kind: str  # "shared-file records", plural, as the report reads
    period: str  # "24 months after sharing"
    disposed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RetentionSection:
    """One app's part of the coordinators' retention page: its own
    ``template``, included with ``context`` (so table ids stay unique on the
    page); ``order`` places it; ``references`` are the case references it
    lists, for the page's audit event."""

    order: int
    template: str
    context: dict
    references: tuple[str, ...] = ()


def retention_sections_for(schedule, today: date) -> list[RetentionSection]:
    answers = retention_sections.send(sender=Referral, schedule=schedule, today=today)
    return sorted((answer for _r, answer in answers if answer), key=lambda a: a.order)


@dataclass
class RetentionResult:
    schedule: RetentionSchedule | None
    disposed: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)
    records: list[RecordsDisposed] = field(default_factory=list)


def retention_apply(
    *, authorised_by: str, dry_run: bool = False, today: date | None = None
) -> RetentionResult:
    """Dispose of every case past its period and not on hold (the daily job)."""
    today = today or timezone.localdate()
    run = RetentionRun(dry_run=dry_run, authorised_by=authorised_by)
    if not dry_run:
        run.save()
    schedule = retention_in_force(today)
    result = RetentionResult(schedule=schedule)
    if schedule is not None:
        due = cases_due_by(today, schedule)
        held = set(due.filter(standing_hold_q()).values_list("pk", flat=True))
        for referral in due:
            if referral.pk in held:
                result.held.append(referral.reference)
                continue
            if not dry_run:
                referral_dispose(
                    referral=referral, schedule=schedule, authorised_by=authorised_by
                )
            result.disposed.append(referral.reference)
        # Then the records on periods of their own: shared files, meetings.
        for _receiver, answer in records_disposing.send(
            sender=Referral,
            schedule=schedule,
            today=today,
            dry_run=dry_run,
            authorised_by=authorised_by,
        ):
            result.records.append(answer)
    if not dry_run:
        run.disposed, run.held = len(result.disposed), len(result.held)
        run.finished_at = timezone.now()
        run.save(update_fields=["disposed", "held", "finished_at"])
    return result


# Monitoring -----------------------------------------------------------------------


def last_retention_run() -> RetentionRun | None:
    return (
        RetentionRun.objects.filter(dry_run=False, finished_at__isnull=False)
        .order_by("-finished_at")
        .first()
    )


def retention_stale(now: datetime | None = None) -> bool:
    """Whether the disposal job has not finished a run for
    ``RETENTION_RUN_STALE_HOURS`` while an agreement gives periods to apply."""
    now = now or timezone.now()
    if retention_in_force(timezone.localdate(now)) is None:
        return False
    last = last_retention_run()
    limit = timedelta(hours=settings.RETENTION_RUN_STALE_HOURS)
    return last is None or last.finished_at < now - limit


def retention_check() -> str:
    """/health/: "overdue" once the disposal job has missed two days, "off"
    while no agreement gives retention periods."""
    if retention_in_force() is None:
        return "off"
    return "overdue" if retention_stale() else "ok"
