"""Emails about shared files and the purge of expired ones, run after commit.

Emails never carry the file, its name or personal data: only who sent
something and a link to sign in.
"""

from django.db import transaction
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django_tasks import task

from accounts.models import Organisation
from notices.models import NoticeKind
from notices.selectors import organisation_people
from notices.services import notices_record
from portal.addresses import absolute_url

from .models import Share


@task()
def send_share_notifications(share_id: int) -> int:
    """Tell the people of each recipient organisation: a notice in What's new
    and, unless they chose otherwise, one email for the whole share however
    many files it holds (notices.services). A share is announced once, so
    the event is the share's. Returns notices made."""
    share = Share.objects.select_related("sender_organisation").get(pk=share_id)
    link = share.get_absolute_url()
    count = share.files.count()
    files = f"{count} file{pluralize(count)}"
    made = 0
    with transaction.atomic():
        for recipient in share.recipients.filter(
            organisation__in=Organisation.objects.taking_part()
        ).select_related("organisation"):
            body = render_to_string(
                "documents/email/files_shared.txt",
                {
                    "share": share,
                    "organisation": recipient.organisation,
                    "link": absolute_url(link),
                },
            )
            made += notices_record(
                kind=NoticeKind.FILES_WAITING,
                recipients=organisation_people(recipient.organisation),
                title=f"{share.sender_organisation} shared {files} with your "
                "organisation",
                link=link,
                event=f"share-{share_id}-shared",
                email_subject=f"{share.sender_organisation} has shared files with you",
                email_body=body,
            )
    return made


@task()
def purge_shared_files() -> int:
    """Delete the stored objects of expired and recalled shares."""
    from .services import shared_files_purge

    return shared_files_purge()
