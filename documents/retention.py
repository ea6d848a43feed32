"""Retention of shared files.

- A disposed case's shares go with it: the shares linked to it, with their
  notes, the files' names and stored objects, recipients and download
  records. Referrals know nothing of documents, so the disposal job
  (``referrals.retention.referral_dispose``) sends ``case_disposing`` and this
  answers, inside the disposal's transaction.
- Every other share record is kept for the ISA's shared-file period, counted
  from sharing (its text: "N months after sharing"), and then destroyed the
  same way by the daily run (``records_disposing``), once the share has ended
  and unless it is linked to a case on legal hold. ``purge_shared_files``
  deletes the stored bytes much earlier, when the share ends; the rows stay
  until now because the sender's "who has opened it" list and the audit
  trail need them. What remains is one ``ShareDisposal`` per batch: counts,
  a hash of the rows, the period and version applied.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.dispatch import receiver
from django.utils import timezone

from agreements.retention import RetentionSchedule
from agreements.services import add_months
from audit.services import audit_record
from files.stored import kind_for, objects_delete
from referrals.retention import (
    Destroyed,
    RecordsDisposed,
    RetentionSection,
    content_hash,
    ended_by,
    held_referral_ids,
    period_cutoff,
)
from referrals.signals import case_disposing, records_disposing, retention_sections

from .audit_actions import DocumentAction
from .models import FileDownload, Share, SharedFile, ShareDisposal, ShareRecipient


@receiver(case_disposing, dispatch_uid="documents.case_disposing")
def case_files_destroy(sender, referral, **kwargs) -> Destroyed:
    destroyed = Destroyed()
    shares = Share.objects.filter(referral=referral)
    files = list(SharedFile.objects.filter(share__in=shares))
    destroyed.add("file_downloads", FileDownload.objects.filter(file__in=files))
    destroyed.add("shared_files", files)
    destroyed.add(
        "file_share_recipients", ShareRecipient.objects.filter(share__in=shares)
    )
    destroyed.add("file_shares", shares)
    names = [item.file.name for item in files if item.purged_at is None]
    FileDownload.objects.filter(file__in=files).delete()
    SharedFile.objects.filter(pk__in=[item.pk for item in files]).delete()
    ShareRecipient.objects.filter(share__in=shares).delete()
    shares.delete()
    objects_delete(kind_for(SharedFile, "file"), names)
    return destroyed


# Shared-file records on their own period ------------------------------------------

# Shares destroyed per transaction, and per ShareDisposal record: a long
# backlog goes in pieces that each commit with their record.
BATCH = 500
# Rows the coordinators' page lists of each kind.
SHOWN = 50


def shares_due(today: date, schedule: RetentionSchedule):
    """Shares whose shared-file period, counted from sharing as the ISA's text
    says, has passed by ``today``, and that have ended (expired or recalled):
    a live share is never destroyed under its recipients. A share linked to
    a case on legal hold is kept with the case."""
    ended = ended_by(today)
    return (
        Share.objects.filter(
            created_at__lt=period_cutoff(today, schedule.shared_file_months)
        )
        .filter(Q(recalled_at__isnull=False) | Q(expires_at__lte=ended))
        .exclude(referral__in=held_referral_ids())
        .order_by("created_at", "pk")
    )


def shares_held(today: date, schedule: RetentionSchedule):
    """Shares past their period that a legal hold on their case keeps."""
    ended = ended_by(today)
    return Share.objects.filter(
        created_at__lt=period_cutoff(today, schedule.shared_file_months),
        referral__in=held_referral_ids(),
    ).filter(Q(recalled_at__isnull=False) | Q(expires_at__lte=ended))


def _shares_destroy(
    share_ids: list[int], *, schedule: RetentionSchedule, authorised_by: str
) -> ShareDisposal | None:
    """Delete these shares with their files' names, notes, recipients and
    download records, in one transaction, and record what went."""
    with transaction.atomic():
        shares = list(
            Share.objects.select_for_update().filter(pk__in=share_ids).order_by("pk")
        )
        if not shares:
            return None
        files = list(SharedFile.objects.filter(share__in=shares))
        destroyed = Destroyed()
        destroyed.add("file_downloads", FileDownload.objects.filter(file__in=files))
        destroyed.add("shared_files", files)
        destroyed.add(
            "file_share_recipients", ShareRecipient.objects.filter(share__in=shares)
        )
        destroyed.add("file_shares", shares)
        names = [item.file.name for item in files if item.purged_at is None]
        destroyed.counts["stored_files"] = len([name for name in names if name])
        FileDownload.objects.filter(file__in=files).delete()
        SharedFile.objects.filter(pk__in=[item.pk for item in files]).delete()
        ShareRecipient.objects.filter(share__in=shares).delete()
        Share.objects.filter(pk__in=[share.pk for share in shares]).delete()
        record = ShareDisposal(
            agreement_version=schedule.version_label,
            period_months=schedule.shared_file_months,
            shared_from=timezone.localdate(min(s.created_at for s in shares)),
            shared_to=timezone.localdate(max(s.created_at for s in shares)),
            counts=destroyed.counts,
            content_hash=content_hash(destroyed.rows),
            authorised_by=authorised_by,
        )
        record.full_clean()
        record.save(force_insert=True)
        audit_record(
            action=DocumentAction.RECORDS_DISPOSED,
            obj=record,
            detail={
                "agreement_version": schedule.version_label,
                "content_hash": record.content_hash,
                "count": len(shares),
                "files": len(files),
            },
        )
        objects_delete(kind_for(SharedFile, "file"), names)
    return record


def _label(share: Share) -> str:
    # The share's id and date: its note and file names are what goes.
    return f"share {share.public_id} of {timezone.localdate(share.created_at)}"


@receiver(records_disposing, dispatch_uid="documents.records_disposing")
def shared_file_records_dispose(
    sender, schedule, today, dry_run, authorised_by, **kwargs
) -> RecordsDisposed:
    """The daily run's part for shared files (``referrals.retention``)."""
    result = RecordsDisposed(
        kind="shared-file records",
        period=f"{schedule.shared_file_months} months after sharing",
        held=[_label(share) for share in shares_held(today, schedule)],
    )
    due = list(shares_due(today, schedule).only("pk", "public_id", "created_at"))
    result.disposed = [_label(share) for share in due]
    if not dry_run:
        for start in range(0, len(due), BATCH):
            _shares_destroy(
                [share.pk for share in due[start : start + BATCH]],
                schedule=schedule,
                authorised_by=authorised_by,
            )
    return result


# The coordinators' retention page -------------------------------------------------


@receiver(retention_sections, dispatch_uid="documents.retention_sections")
def shared_file_records_section(sender, schedule, today, **kwargs):
    due, total = [], 0
    if schedule is not None:
        horizon = today + timedelta(days=settings.RETENTION_REVIEW_DAYS)
        shares = (
            shares_due(horizon, schedule)
            .select_related("sender_organisation", "referral")
            .annotate(file_count=Count("files"))
        )
        total = shares.count()
        due = [
            {
                "share": share,
                "disposal_date": max(
                    add_months(
                        timezone.localdate(share.created_at),
                        schedule.shared_file_months,
                    ),
                    timezone.localdate(share.recalled_at or share.expires_at),
                ),
            }
            for share in shares[:SHOWN]
        ]
    context = {
        "schedule": schedule,
        "due": due,
        "not_shown": total - len(due),
        "disposals": list(ShareDisposal.objects.all()[:SHOWN]),
    }
    references = tuple(
        sorted(
            {row["share"].referral.reference for row in due if row["share"].referral}
        )
    )
    return RetentionSection(
        order=10,
        template="documents/retention_section.html",
        context=context,
        references=references,
    )
