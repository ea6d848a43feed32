"""Emails about shared files and the purge of expired ones, run after commit.

Emails never carry the file, its name or personal data: only who sent
something and a link to sign in.
"""

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from accounts.models import Organisation, staff_to_email
from jobs.mail import email_queue
from portal.addresses import absolute_url

from .models import Share


@task()
def send_share_notifications(share_id: int) -> int:
    """Email the staff of each recipient organisation, through the outbox
    (jobs.mail), which retries; a share is announced once, so the event is
    the share's. Returns emails queued."""
    share = Share.objects.select_related("sender_organisation").get(pk=share_id)
    link = absolute_url(reverse("documents:index"))
    subject = f"{share.sender_organisation} has shared files with you"
    queued = 0
    with transaction.atomic():
        for recipient in share.recipients.filter(
            organisation__in=Organisation.objects.taking_part()
        ).select_related("organisation"):
            body = render_to_string(
                "documents/email/files_shared.txt",
                {"share": share, "organisation": recipient.organisation, "link": link},
            )
            for person in staff_to_email(recipient.organisation):
                queued += email_queue(
                    event=f"share-{share_id}-shared",
                    to=person.email,
                    subject=subject,
                    body=body,
                )
    return queued


@task()
def purge_shared_files() -> int:
    """Delete the stored objects of expired and recalled shares."""
    from .services import shared_files_purge

    return shared_files_purge()
