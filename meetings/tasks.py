"""Building meeting packs in the background (django-tasks).

Packs are built when papers are issued and again whenever the agenda, the
invitations or a case on it changes. Each build keeps a pack whose content
has not changed, so a repeated or overlapping run does no harm.
"""

import logging

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

from accounts.models import staff_to_email
from portal.addresses import absolute_url

from .models import Meeting

logger = logging.getLogger(__name__)


@task()
def build_meeting_packs(meeting_id: int, notify: bool = False) -> int:
    """Build every invited agency's pack; with ``notify``, email each agency's
    staff that papers are out (no personal data). Returns packs built or kept."""
    from .services import packs_build

    meeting = Meeting.objects.get(pk=meeting_id)
    packs = packs_build(meeting)
    if notify:
        link = absolute_url(meeting.get_absolute_url())
        for pack in packs:
            body = render_to_string(
                "meetings/email/papers_issued.txt",
                {"meeting": meeting, "organisation": pack.organisation, "link": link},
            )
            for person in staff_to_email(pack.organisation):
                send_mail(f"Papers issued: {meeting}", body, None, [person.email])
    return len(packs)
