"""Files attached to a draft: checks, virus scan, storage, removal."""

import hashlib

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest

from accounts.models import User
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

from ..audit_actions import ReferralAction
from ..models import (
    AttachmentVisibility,
    ReferralAttachment,
    ReferralDraft,
)
from ..redaction import default_visibility
from ._common import ReferralRefused, _locked_draft

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
        upload,
        user=user,
        request=request,
        infected_action=ReferralAction.ATTACHMENT_INFECTED_REFUSED,
        unavailable_action=ReferralAction.ATTACHMENT_SCAN_UNAVAILABLE,
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
                action=ReferralAction.ATTACHMENT_ADDED,
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
        action=ReferralAction.ATTACHMENT_REMOVED,
        request=request,
        actor=user,
        obj=attachment,
        detail={"draft": str(draft.public_id)},
    )
    _attachment_discard(attachment)
