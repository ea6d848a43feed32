"""A disposed case's shared files: the shares linked to it, with their notes,
the files' names and stored objects, recipients and download records.

Referrals know nothing of documents, so the disposal job
(``referrals.retention.referral_dispose``) sends ``case_disposing`` and this
answers, inside the disposal's transaction.
"""

from django.dispatch import receiver

from files.stored import kind_for, objects_delete
from referrals.retention import Destroyed
from referrals.signals import case_disposing

from .models import FileDownload, Share, SharedFile, ShareRecipient


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
