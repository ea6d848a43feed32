"""Business rules for sharing files between agencies.

- Every file is checked (files.checks: type by content and name, size,
  zip bombs, macros, active PDF content) and, where ClamAV is configured,
  scanned, all before anything is written to storage.
  An infected file is refused; an unreachable scanner refuses the upload.
- Stored objects get server-generated names and are written through
  files.stored: a crash leaves a committed share with its files or a
  pending mark the sweeper clears, never a file nobody will delete. A commit
  whose reply is lost keeps its files, and a share is reported as made only
  once its files are found in storage.
- A share expires (default 30 days, at most 90); expiry can be brought
  forward, never pushed back. Expired and recalled files stop being served at
  once (the selectors check) and their objects are purged after commit.
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Organisation, Role, User
from agreements.selectors import organisations_in_good_standing
from audit.services import audit_record, client_ip
from files import scanning
from files.checks import CheckedFile, FileRefused, check_file
from files.scanning import ScanVerdict
from files.stored import (
    kind_for,
    object_present,
    object_write,
    objects_abandon,
    objects_kept,
)
from referrals.models import Referral

from .audit_actions import DocumentAction
from .models import (
    FileDownload,
    ScanStatus,
    Share,
    SharedFile,
    ShareRecipient,
    ShareTarget,
)

logger = logging.getLogger(__name__)

MAX_FILES_PER_SHARE = 20


class ShareRefused(Exception):
    """The share cannot be made or changed; the message says why."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class FilesRefused(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def default_expiry(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return now + timedelta(days=settings.DOCUMENTS_DEFAULT_EXPIRY_DAYS)


def latest_expiry(created_at: datetime) -> datetime:
    return created_at + timedelta(days=settings.DOCUMENTS_MAX_EXPIRY_DAYS)


def may_manage(user: User, share: Share) -> bool:
    """The sender's organisation and coordinators may see who opened the
    files, shorten the expiry and recall the share."""
    return user.has_role(Role.COORDINATOR) or (
        user.organisation_id is not None
        and user.organisation_id == share.sender_organisation_id
    )


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def files_check(
    *, uploads: list, user: User, request: HttpRequest | None = None
) -> list[CheckedFile]:
    """Check and scan every file; FilesRefused lists every problem at once."""
    if not uploads:
        raise FilesRefused(["Select at least one file to share"])
    if len(uploads) > MAX_FILES_PER_SHARE:
        raise FilesRefused([f"Select {MAX_FILES_PER_SHARE} files or fewer at a time"])
    checked, problems = [], []
    for upload in uploads:
        try:
            checked.append(check_file(upload))
        except FileRefused as exc:
            problems.append(str(exc))
    if problems:
        raise FilesRefused(problems)
    for upload, info in zip(uploads, checked, strict=True):
        problems.extend(_scan(upload, info, user, request))
    if problems:
        raise FilesRefused(problems)
    return checked


def _scan(upload, info: CheckedFile, user: User, request) -> list[str]:
    verdict = scanning.virus_check(
        upload,
        user=user,
        request=request,
        infected_action=DocumentAction.INFECTED_REFUSED,
        unavailable_action=DocumentAction.SCAN_UNAVAILABLE,
    )
    if verdict == ScanVerdict.UNAVAILABLE:
        return [
            f"{info.display_name} could not be checked for viruses just now, so it "
            "was not shared. Try again in a few minutes"
        ]
    if verdict == ScanVerdict.INFECTED:
        return [f"{info.display_name} contains a virus and was not shared"]
    return []


def share_create(
    *,
    user: User,
    uploads: list,
    organisations: list[Organisation] | None = None,
    referral=None,
    meeting=None,
    note: str = "",
    expires_at: datetime | None = None,
    submission_key=None,
    request: HttpRequest | None = None,
) -> tuple[Share, bool]:
    """Share files; returns the share and whether it is new.

    A repeated ``submission_key`` (a double click, a resubmitted page) returns
    the share the first submission made.
    """
    if submission_key is not None:
        existing = Share.objects.filter(submission_key=submission_key).first()
        if existing is not None:
            if existing.sent_by_id != user.pk:
                raise ShareRefused("This form has already been used. Start again.")
            # A repeated form: its files were verified when it was made.
            _share_files_verify(existing, check_hash=False)
            return existing, False
    if user.organisation_id is None:
        raise ShareRefused("Only people at a partner organisation can share files.")
    now = timezone.now()
    expires_at = expires_at or default_expiry(now)
    _check_expiry(expires_at, now, latest_expiry(now))
    target, recipients = _recipients(user, organisations, referral, meeting)
    checked = files_check(uploads=uploads, user=user, request=request)
    kind = kind_for(SharedFile, "file")
    items: list[SharedFile] = []
    try:
        # Each file is written (and its pending mark committed) before the
        # share's transaction starts: files.stored explains why.
        for upload, info in zip(uploads, checked, strict=True):
            items.append(_file_write(upload, info))
        with transaction.atomic():
            if referral is not None:
                # Again with the case locked: a restriction placed while the
                # files were checked and stored counts too.
                _not_restricted(
                    Referral.objects.select_for_update().get(pk=referral.pk)
                )
            share = Share(
                submission_key=submission_key,
                target=target,
                sender_organisation_id=user.organisation_id,
                sent_by=user,
                note=note,
                referral=referral,
                meeting=meeting,
                created_at=now,
                expires_at=expires_at,
            )
            share.full_clean()
            share.save()
            ShareRecipient.objects.bulk_create(
                ShareRecipient(share=share, organisation=org) for org in recipients
            )
            for item in items:
                item.share = share
                item.full_clean()
                item.save()
            objects_kept([item.file.name for item in items])
            audit_record(
                action=DocumentAction.SHARED,
                request=request,
                actor=user,
                obj=share,
                detail={
                    "files": len(checked),
                    "bytes": sum(u.size for u in uploads),
                    "recipients": sorted(org.pk for org in recipients),
                    "target": target,
                },
            )
            transaction.on_commit(lambda: _notify(share.pk))
    except Exception:
        ours = objects_abandon(kind, [item.file.name for item in items])
        if submission_key is not None:
            existing = Share.objects.filter(submission_key=submission_key).first()
            if existing is not None and existing.sent_by_id == user.pk:
                if ours:
                    # Our own commit went through but its reply was lost (a
                    # failover, a pooler restart): its on-commit work did not
                    # run, so the recipients are told now.
                    _share_files_verify(existing)
                    _notify(existing.pk)
                    return existing, False
                # Two submissions raced: the other one committed the share.
                _share_files_verify(existing)
                return existing, False
        raise
    return share, True


def _file_write(upload, info: CheckedFile) -> SharedFile:
    """The file's row, not yet saved, with its file written to storage."""
    item = SharedFile(
        display_name=info.display_name,
        content_type=info.content_type,
        size=upload.size,
        sha256=_sha256(upload),
        scan_status=(
            ScanStatus.CLEAN
            if scanning.scanner_configured()
            else ScanStatus.NOT_SCANNED
        ),
    )
    # Streamed in chunks under a name made by the server
    # (documents.models._storage_name); the sender's name is display text.
    object_write(item, "file", upload, filename=info.display_name)
    return item


FILES_LOST_MESSAGE = (
    "Your files were recorded but could not all be stored, so recipients "
    "cannot download them. Recall this share from the Sent tab and share the "
    "files again. If this keeps happening, tell the CMARAC coordinator."
)


def _share_files_verify(share: Share, *, check_hash: bool = True) -> None:
    """Before saying a share already made succeeded: every file it lists is
    in storage (and matches its digest), or ShareRefused says so plainly."""
    kind = kind_for(SharedFile, "file")
    for item in share.files.filter(purged_at__isnull=True):
        if not object_present(kind, item, check_hash=check_hash):
            logger.error("Share %s lists file %s, missing from storage",
                         share.pk, item.pk)  # fmt: skip
            raise ShareRefused(FILES_LOST_MESSAGE)


def _storage():
    """The storage shared files are in: the one the model field was built with."""
    return SharedFile._meta.get_field("file").storage


def _check_expiry(expires_at: datetime, now: datetime, latest: datetime) -> None:
    if expires_at <= now:
        raise ShareRefused("The expiry date must be in the future", field="expires")
    if expires_at > latest:
        raise ShareRefused(
            f"The expiry date must be no more than "
            f"{settings.DOCUMENTS_MAX_EXPIRY_DAYS} days after the files are shared",
            field="expires",
        )


def _recipients(user, organisations, referral, meeting):
    """Who receives the share, fixed now: named organisations, everyone who can
    see the referral, or every agency invited to the meeting."""
    from meetings.selectors import meetings_visible_to
    from meetings.services import invited_organisations
    from referrals.selectors import referrals_visible_to

    # Never trust the list the form offered (docs/features.md, "Agreements").
    parties = organisations_in_good_standing()
    chosen = [x for x in (organisations, referral, meeting) if x]
    if len(chosen) != 1:
        raise ShareRefused("Choose who should receive the files", field="target")
    if organisations:
        target = ShareTarget.ORGANISATIONS
        taking_part = Organisation.objects.taking_part().values_list("pk", flat=True)
        taking_part = set(taking_part)
        recipients = {org for org in organisations if org.pk in taking_part}
        if len(recipients) != len(set(organisations)):
            raise ShareRefused(
                "One of the organisations no longer takes part", field="organisations"
            )
        refused = sorted(o.name for o in recipients if o.pk not in parties)
        if refused:
            raise ShareRefused(
                f"{', '.join(refused)} cannot be sent files: only organisations "
                "that are parties to the Information Sharing Agreement in force, "
                "and have acknowledged it, may receive case material",
                field="organisations",
            )
    elif referral is not None:
        target = ShareTarget.REFERRAL
        if not referrals_visible_to(user).filter(pk=referral.pk).exists():
            raise ShareRefused("Choose a referral you can see", field="referral")
        _not_restricted(referral)
        recipients = {referral.organisation} | {
            share.organisation
            for share in referral.shares.in_force().select_related("organisation")
        }
    else:
        target = ShareTarget.MEETING
        if not meetings_visible_to(user).filter(pk=meeting.pk).exists():
            raise ShareRefused("Choose a meeting you can see", field="meeting")
        recipients = set(invited_organisations(meeting))
    # A case's files go only to those of its organisations the agreement
    # still lets see it; the others would be sent what they may not open.
    recipients = {org for org in recipients if org.pk in parties}
    recipients.discard(user.organisation)
    if not recipients:
        raise ShareRefused(
            "Nobody else would receive these files. Choose another organisation",
            field={
                ShareTarget.ORGANISATIONS: "organisations",
                ShareTarget.REFERRAL: "referral",
                ShareTarget.MEETING: "meeting",
            }[target],
        )
    return target, sorted(recipients, key=lambda org: org.name)


def _not_restricted(referral) -> None:
    """Files about a restricted case are not shared (UK GDPR Article 18;
    ``referrals.services.restriction``)."""
    from referrals.services import ReferralRefused, restriction_refuse

    try:
        restriction_refuse(referral, "shared")
    except ReferralRefused as exc:
        raise ShareRefused(str(exc), field="referral") from exc


def _notify(share_id: int) -> None:
    from .tasks import send_share_notifications

    send_share_notifications.enqueue(share_id)


def _locked(share: Share) -> Share:
    return Share.objects.select_for_update().get(pk=share.pk)


@transaction.atomic
def share_expiry_shorten(
    *, share: Share, user: User, expires_at: datetime,
    request: HttpRequest | None = None,
) -> Share:  # fmt: skip
    """Bring the expiry forward. Pushing it back is refused."""
    locked = _locked(share)
    if not may_manage(user, locked):
        raise ShareRefused("Only the sending organisation can change the expiry.")
    if not locked.is_live():
        raise ShareRefused("These files are no longer available.")
    now = timezone.now()
    if expires_at >= locked.expires_at:
        raise ShareRefused(
            "The new expiry date must be earlier than the current one. "
            "Expiry can be brought forward, never extended",
            field="expires",
        )
    _check_expiry(expires_at, now, latest_expiry(locked.created_at))
    previous = locked.expires_at
    locked.expires_at = expires_at
    locked.save(update_fields=["expires_at"])
    audit_record(
        action=DocumentAction.EXPIRY_SHORTENED,
        request=request,
        actor=user,
        obj=locked,
        detail={"from": previous.isoformat(), "to": expires_at.isoformat()},
    )
    return locked


@transaction.atomic
def share_recall(
    *, share: Share, user: User, reason: str, request: HttpRequest | None = None
) -> Share:
    """Stop serving the files now; their stored objects go after commit."""
    locked = _locked(share)
    if not may_manage(user, locked):
        raise ShareRefused("Only the sending organisation can recall these files.")
    if locked.recalled_at is not None:
        return locked
    locked.recalled_at = timezone.now()
    locked.recalled_by = user
    locked.recall_reason = reason.strip()
    locked.full_clean()
    locked.save(update_fields=["recalled_at", "recalled_by", "recall_reason"])
    audit_record(
        action=DocumentAction.RECALLED,
        request=request,
        actor=user,
        obj=locked,
        detail={"why": locked.recall_reason},  # free text: withheld
    )
    transaction.on_commit(_enqueue_purge)
    return locked


@dataclass(frozen=True)
class RecipientWithdrawn:
    """What ``shares_withdraw_from`` did: shares recalled outright (the
    organisation was their only recipient) and shares it was taken off."""

    recalled: int
    removed: int


@transaction.atomic
def shares_withdraw_from(
    *, organisation: Organisation, user: User, reason: str,
    request: HttpRequest | None = None,
) -> RecipientWithdrawn:  # fmt: skip
    """Stop ``organisation`` receiving any live share (a partner withdrew).

    A share sent to it alone is recalled, in ``user``'s name (the person who
    authorised the withdrawal, who need not be of the sending organisation);
    a share sent to others too keeps going to them and loses only this
    recipient row, so nobody else's access changes. Shares already recalled
    or expired are left as they are: their files are purged anyway."""
    now = timezone.now()
    live = Share.objects.filter(
        recipients__organisation=organisation,
        recalled_at__isnull=True,
        expires_at__gt=now,
    ).order_by("pk")
    recalled = removed = 0
    for share in live:
        locked = _locked(share)
        others = locked.recipients.exclude(organisation=organisation).count()
        if others:
            locked.recipients.filter(organisation=organisation).delete()
            audit_record(
                action=DocumentAction.RECIPIENT_REMOVED,
                request=request,
                actor=user,
                obj=locked,
                detail={"organisation": organisation.pk, "recipients": others,
                        "reason": "partner_withdrawn"},
            )  # fmt: skip
            removed += 1
            continue
        locked.recalled_at = now
        locked.recalled_by = user
        locked.recall_reason = reason.strip()
        locked.full_clean()
        locked.save(update_fields=["recalled_at", "recalled_by", "recall_reason"])
        audit_record(
            action=DocumentAction.RECALLED,
            request=request,
            actor=user,
            obj=locked,
            detail={"why": locked.recall_reason, "reason": "partner_withdrawn"},
        )
        recalled += 1
    if recalled:
        transaction.on_commit(_enqueue_purge)
    return RecipientWithdrawn(recalled=recalled, removed=removed)


def _enqueue_purge() -> None:
    from .tasks import purge_shared_files

    purge_shared_files.enqueue()


def file_download_record(
    *, item: SharedFile, user: User, request: HttpRequest | None = None
) -> FileDownload:
    """Note a download for the sender's 'who has opened it' list and the audit."""
    with transaction.atomic():
        download = FileDownload.objects.create(
            file=item,
            user=user,
            organisation_id=user.organisation_id,
            ip_address=client_ip(request),
        )
        audit_record(
            action=DocumentAction.DOWNLOADED,
            request=request,
            actor=user,
            obj=item,
            detail={"share": str(item.share.public_id), "size": item.size},
        )
    return download


def shared_files_purge(*, now: datetime | None = None) -> int:
    """Delete the stored objects of expired and recalled shares; returns how
    many. Rows and download history stay for the sender and the audit trail
    until the shared-file period ends (``documents.retention``)."""
    from django.db.models import Q

    now = now or timezone.now()
    storage = _storage()
    due = SharedFile.objects.filter(purged_at__isnull=True).filter(
        Q(share__recalled_at__isnull=False) | Q(share__expires_at__lte=now)
    )
    purged = 0
    for item in due.iterator():
        # Object first, then the row: a delete that fails leaves the row
        # unpurged, so the next run tries again; deleting twice is harmless.
        storage.delete(item.file.name)
        SharedFile.objects.filter(pk=item.pk, purged_at__isnull=True).update(
            purged_at=timezone.now()
        )
        purged += 1
    if purged:
        audit_record(action=DocumentAction.PURGED, detail={"files": purged})
    return purged
