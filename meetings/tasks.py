"""Meeting packs and the emails about papers and minutes, in the background
(django-tasks).

Packs are built when papers are issued and again whenever the agenda, the
invitations or a case on it changes. Each build keeps a pack whose content
has not changed, so a repeated or overlapping run does no harm. Emails are
queued in the outbox (jobs.mail), which delivers them with retries.
"""

import logging

from django.db import transaction
from django.template.loader import render_to_string
from django_tasks import task

from accounts.models import staff_to_email
from jobs.mail import email_queue
from notices.models import NoticeKind
from notices.selectors import organisation_people
from notices.services import notices_record
from portal.addresses import absolute_url

from .models import Meeting

logger = logging.getLogger(__name__)


@task()
def build_meeting_packs(meeting_id: int, notify: bool = False, event: str = "") -> int:
    """Build every invited agency's pack; with ``notify``, email each agency's
    staff that papers are out (no personal data); ``event`` names this issue
    of papers, so a rerun emails nobody twice. Returns packs built or kept."""
    from .services import packs_build

    meeting = Meeting.objects.get(pk=meeting_id)
    packs = packs_build(meeting)
    if notify:
        # A notice in What's new for each invited agency's people, and one
        # email each unless they chose otherwise (notices.services).
        link = meeting.get_absolute_url()
        with transaction.atomic():
            for pack in packs:
                body = render_to_string(
                    "meetings/email/papers_issued.txt",
                    {
                        "meeting": meeting,
                        "organisation": pack.organisation,
                        "link": absolute_url(link),
                    },
                )
                notices_record(
                    kind=NoticeKind.PAPERS_ISSUED,
                    recipients=organisation_people(pack.organisation),
                    title=f"Papers issued: {meeting}",
                    link=link,
                    event=f"meeting-{meeting_id}-papers-{event}",
                    email_body=body,
                )
    return len(packs)


@task()
def send_minutes_issued(meeting_id: int) -> int:
    """Email the staff of each invited agency that the minutes are out (no
    personal data); minutes are issued once, so the event is the meeting's.
    Returns emails queued."""
    from .services import invited_organisations

    meeting = Meeting.objects.get(pk=meeting_id)
    link = absolute_url(meeting.get_absolute_url())
    queued = 0
    with transaction.atomic():
        for organisation in invited_organisations(meeting):
            body = render_to_string(
                "meetings/email/minutes_issued.txt",
                {"meeting": meeting, "organisation": organisation, "link": link},
            )
            for person in staff_to_email(organisation):
                queued += email_queue(
                    event=f"meeting-{meeting_id}-minutes-issued",
                    to=person.email,
                    subject=f"Minutes issued: {meeting}",
                    body=body,
                )
    return queued


@task()
def send_calendar_invitations(meeting_id: int) -> dict[str, int]:
    """Bring everyone's calendar in line with the meeting: invitations,
    updates and cancellations as iCalendar attachments (meetings.calendar).
    A rerun sends only what is still missing."""
    from .calendar import calendar_invitations_sync

    return calendar_invitations_sync(meeting_id)
