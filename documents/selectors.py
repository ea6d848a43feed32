"""Permission-aware reads of shared files.

- Agency staff (referrers) see shares their organisation sent or received;
  coordinators see every share. Signatories and editors alone see none.
- An organisation whose ISA acknowledgement is overdue sees none
  (``case_material_access``), whatever it sent or received.
- A file is served only while its share is live (not expired, not recalled)
  and its stored object has not been purged.
- Anyone else gets 404, never 403, so a URL does not confirm a file exists.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import Organisation, Role, User
from agreements.selectors import case_material_access

from .models import FileDownload, Share, SharedFile, ShareRecipient


def may_exchange(user: User) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if not user.works_on_cases:
        return False
    return case_material_access(user).allowed


def shares_visible_to(user: User) -> QuerySet[Share]:
    if not may_exchange(user):
        return Share.objects.none()
    return Share.objects.select_related(
        "sender_organisation", "sent_by", "referral", "meeting"
    ).filter(_visible_shares(user))


def _visible_shares(user: User, path: str = "") -> Q:
    """Which shares ``user`` (who may exchange files) sees, as a filter on the
    share at ``path`` ("" for a Share, "share__" for a SharedFile): every
    share for a coordinator, otherwise those their organisation sent or
    received. The one statement of the rule, for both."""
    if user.has_role(Role.COORDINATOR):
        return Q()
    received = ShareRecipient.objects.filter(
        share=OuterRef(f"{path}pk"), organisation_id=user.organisation_id
    )
    return Q(**{f"{path}sender_organisation_id": user.organisation_id}) | Q(
        Exists(received)
    )


def share_for(user: User, public_id) -> Share:
    share = shares_visible_to(user).filter(public_id=public_id).first()
    if share is None:
        raise Http404("No shared files found")
    return share


def file_for_download(user: User, share_id, file_id) -> SharedFile:
    """A file ``user`` may download now, or 404.

    One query, with the rule of ``shares_visible_to`` applied to the file's
    own share rather than as a subquery of every share ``user`` sees: the
    same rows, and about a fifth less work for each download."""
    if not may_exchange(user):
        raise Http404("No file found")
    item = (
        SharedFile.objects.select_related("share")
        .filter(
            _visible_shares(user, "share__"),
            public_id=file_id,
            share__public_id=share_id,
            share__recalled_at__isnull=True,
            share__expires_at__gt=timezone.now(),
            purged_at__isnull=True,
        )
        .first()
    )
    if item is None:
        raise Http404("No file found")
    return item


def _with_files(shares: QuerySet[Share], organisation_id) -> QuerySet[Share]:
    opened = FileDownload.objects.filter(
        file=OuterRef("pk"), organisation_id=organisation_id
    )
    files = SharedFile.objects.annotate(opened_by_us=Exists(opened))
    return shares.prefetch_related(
        Prefetch("files", queryset=files),
        Prefetch(
            "recipients",
            queryset=ShareRecipient.objects.select_related("organisation"),
        ),
    )


def shares_received(user: User) -> QuerySet[Share]:
    if user.organisation_id is None:
        return Share.objects.none()
    return _with_files(
        shares_visible_to(user).filter(recipients__organisation=user.organisation_id),
        user.organisation_id,
    )


def shares_sent(user: User) -> QuerySet[Share]:
    if user.organisation_id is None:
        return Share.objects.none()
    return _with_files(
        shares_visible_to(user).filter(sender_organisation=user.organisation_id),
        user.organisation_id,
    )


def shares_all(user: User) -> QuerySet[Share]:
    """Coordinators: every share; others: nothing extra."""
    if not user.has_role(Role.COORDINATOR):
        return Share.objects.none()
    return _with_files(shares_visible_to(user), user.organisation_id)


def unopened_count(user: User) -> int:
    """Live files shared with the user's organisation that nobody there has
    downloaded yet: the "new" marker."""
    if not may_exchange(user) or user.organisation_id is None:
        return 0
    opened = FileDownload.objects.filter(
        file=OuterRef("pk"), organisation_id=user.organisation_id
    )
    return (
        SharedFile.objects.filter(
            share__recipients__organisation=user.organisation_id,
            share__recalled_at__isnull=True,
            share__expires_at__gt=timezone.now(),
            purged_at__isnull=True,
        )
        .exclude(Exists(opened))
        .count()
    )


@dataclass(frozen=True)
class FileOpenings:
    file: SharedFile
    downloads: list[FileDownload]
    not_opened_by: list[Organisation]


def openings(share: Share) -> list[FileOpenings]:
    """Per file: who downloaded it and when, and which recipient organisations
    have not opened it. For the sender's organisation and coordinators only
    (the view checks ``services.may_manage``)."""
    recipients = [
        r.organisation for r in share.recipients.select_related("organisation")
    ]
    downloads: dict[int, list[FileDownload]] = {}
    for download in FileDownload.objects.filter(file__share=share).select_related(
        "user", "organisation"
    ):
        downloads.setdefault(download.file_id, []).append(download)
    report = []
    for item in share.files.all():
        rows = downloads.get(item.pk, [])
        opened_orgs = {row.organisation_id for row in rows}
        report.append(
            FileOpenings(
                file=item,
                downloads=rows,
                not_opened_by=[org for org in recipients if org.pk not in opened_orgs],
            )
        )
    return report


# For the person index (rights) ------------------------------------------------
#
# Every share and file, whoever sent or received it: only ``rights`` calls
# these, after its own check of the data protection officer's role.


def shares_for_person_index() -> QuerySet[Share]:
    return Share.objects.select_related(
        "sender_organisation", "referral", "meeting"
    ).order_by("pk")


def shared_files_for_person_index() -> QuerySet[SharedFile]:
    return SharedFile.objects.select_related(
        "share__sender_organisation", "share__referral", "share__meeting"
    ).order_by("pk")
