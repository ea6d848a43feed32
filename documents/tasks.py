"""Emails about shared files and the purge of expired ones, run after commit.

Emails never carry the file, its name or personal data: only who sent
something and a link to sign in.
"""

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from accounts.models import staff_to_email
from portal.addresses import absolute_url

from .models import Share


@task()
def send_share_notifications(share_id: int) -> int:
    """Email the staff of each recipient organisation; returns emails sent."""
    share = Share.objects.select_related("sender_organisation").get(pk=share_id)
    link = absolute_url(reverse("documents:index"))
    sent = 0
    for recipient in share.recipients.select_related("organisation"):
        body = render_to_string(
            "documents/email/files_shared.txt",
            {"share": share, "organisation": recipient.organisation, "link": link},
        )
        subject = f"{share.sender_organisation} has shared files with you"
        for person in staff_to_email(recipient.organisation):
            sent += send_mail(subject, body, None, [person.email])
    return sent


@task()
def purge_shared_files() -> int:
    """Delete the stored objects of expired and recalled shares."""
    from .services import shared_files_purge

    return shared_files_purge()
