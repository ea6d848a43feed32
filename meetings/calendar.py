"""Calendar invitations for meetings: iCalendar (RFC 5545) attachments sent
with METHOD:REQUEST when a person is invited or the time or place changes,
and METHOD:CANCEL when the meeting is cancelled or they are no longer
invited (RFC 5546, 3.2.2 and 3.2.5).

Each meeting has one UID for ever, so calendars match every email to the
same event; each email a person gets carries a higher SEQUENCE than the last
one they got, so an update replaces the invitation and a cancellation
removes it, whatever order the emails arrive in.
https://www.rfc-editor.org/rfc/rfc5545#section-3.8.7.4

An invitation holds the meeting's name, time, place or online link and a
link to the portal: never a case, a person or an agenda.
"""

from datetime import UTC, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from accounts.models import User, staff_to_email
from jobs.mail import Attachment
from notices.models import NoticeKind
from notices.services import NoticeDraft, notices_record_each
from portal.addresses import absolute_url, base_url

from .models import CalendarInvitation, Meeting, MeetingStatus

# Invitations block out this long: the agenda's length is not known when the
# first one goes out, and a calendar entry that grows with it would change
# without telling anyone.
MEETING_LENGTH = timedelta(hours=2)
PRODID = "-//CMARAC partner portal//Meetings//EN"


def meeting_uid(meeting: Meeting) -> str:
    """The meeting's iCalendar UID: the same in every email about it."""
    host = urlsplit(base_url()).hostname or "localhost"
    return f"cmarac-meeting-{meeting.pk}@{host}"


def invitation_ics(
    meeting: Meeting, *, attendee: User, sequence: int, method: str
) -> str:
    """One VEVENT for ``attendee`` as text. Times are in UTC ("Z"), which
    needs no VTIMEZONE and which every calendar shows in local time."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC))
    starts = meeting.starts_at.astimezone(UTC)
    event.add("dtstart", starts)
    event.add("dtend", starts + MEETING_LENGTH)
    event.add("summary", str(meeting))
    if meeting.location:
        event.add("location", meeting.location)
    elif meeting.online_link:
        event.add("location", "Online")
    link = absolute_url(meeting.get_absolute_url())
    lines = []
    if meeting.online_link:
        lines.append(f"Join online: {meeting.online_link}")
        event.add("url", meeting.online_link)
    lines.append(
        "Reply, and read the papers once they are issued, in the partner "
        f"portal: {link}"
    )
    event.add("description", "\n".join(lines))
    organizer = vCalAddress(f"mailto:{_from_address()}")
    organizer.params["cn"] = vText("CMARAC coordinators")
    event.add("organizer", organizer)
    person = vCalAddress(f"mailto:{attendee.email}")
    person.params["role"] = vText("REQ-PARTICIPANT")
    person.params["partstat"] = vText("NEEDS-ACTION")
    person.params["rsvp"] = vText("FALSE")
    event.add("attendee", person)
    if method == "CANCEL":
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical().decode()


def _from_address() -> str:
    from email.utils import parseaddr

    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "portal@localhost"


def invitees(meeting: Meeting) -> dict[int, User]:
    """Who holds a place: the chair, the caseworkers of each organisation
    invited to a case that may see case material now, and deputies. Nobody, once the
    meeting is cancelled."""
    from .services import invited_organisations

    if meeting.status == MeetingStatus.CANCELLED:
        return {}
    people = {}
    if meeting.chair.is_active and meeting.chair.email:
        people[meeting.chair_id] = meeting.chair
    for organisation in invited_organisations(meeting):
        for person in staff_to_email(organisation):
            people[person.pk] = person
    # Deputies named by a colleague sending apologies hold a place as people.
    for row in (
        meeting.attendance.filter(deputy_for__isnull=False, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
    ):
        people[row.user_id] = row.user
    return people


@transaction.atomic
def calendar_invitations_sync(meeting_id: int) -> dict[str, int]:
    """Send each person what their calendar lacks: an invitation or update
    (REQUEST) to those invited who have not had this version of the meeting,
    a cancellation (CANCEL) to those who had an invitation and are no longer
    invited. Safe to run again: it sends only what is missing. Returns how
    many of each were sent."""
    # Locked, so two runs for one meeting take turns and never send one
    # person two emails with the same SEQUENCE.
    meeting = (
        Meeting.objects.select_for_update().select_related("chair").get(pk=meeting_id)
    )
    wanted = invitees(meeting)
    sent = {
        invitation.user_id: invitation
        for invitation in CalendarInvitation.objects.filter(
            meeting=meeting
        ).select_related("user")
    }
    counts = {"invited": 0, "updated": 0, "cancelled": 0}
    sends = []
    for person in wanted.values():
        invitation = sent.get(person.pk)
        if invitation is None or invitation.cancelled:
            what = "invited"
        elif invitation.calendar_version < meeting.calendar_version:
            what = "updated"
        else:
            continue
        sends.append((person, invitation, what))
        counts[what] += 1
    for user_id, invitation in sent.items():
        if user_id not in wanted and not invitation.cancelled:
            sends.append((invitation.user, invitation, "cancelled"))
            counts["cancelled"] += 1
    _send_all(meeting, sends)
    return counts


_TITLES = {
    "invited": "Invitation: {meeting}",
    "updated": "Changed time or place: {meeting}",
    "cancelled": "Cancelled: {meeting}",
    "uninvited": "No longer invited: {meeting}",
}


def _send_all(meeting, sends) -> None:
    """Record and queue each person's calendar email, and the notice that
    says the same, in a few queries however many people: the invitations
    saved in one insert and one update, the notices and emails through
    ``notices_record_each``."""
    now = timezone.now()
    new, changed, drafts = [], [], []
    link = meeting.get_absolute_url()
    for person, invitation, what in sends:
        method = "CANCEL" if what == "cancelled" else "REQUEST"
        if what == "cancelled" and meeting.status != MeetingStatus.CANCELLED:
            what = "uninvited"
        sequence = 0 if invitation is None else invitation.sequence + 1
        if invitation is None:
            invitation = CalendarInvitation(meeting=meeting, user=person)
            new.append(invitation)
        else:
            changed.append(invitation)
        invitation.sequence = sequence
        invitation.calendar_version = meeting.calendar_version
        invitation.cancelled = method == "CANCEL"
        invitation.sent_at = now
        invitation.full_clean(exclude=["meeting", "user"], validate_constraints=False)
        if not person.email:
            continue
        title = _TITLES[what].format(meeting=meeting)
        drafts.append(
            NoticeDraft(
                recipient=person,
                title=title,
                link=link,
                # The SEQUENCE names the email: each one a person gets is new.
                event=f"meeting-{meeting.pk}-calendar-{person.pk}-{sequence}",
                email_body=_email_body(title, link, method),
                attachment=Attachment(
                    filename="cancel.ics" if method == "CANCEL" else "invite.ics",
                    content_type=f"text/calendar; method={method}",
                    content=invitation_ics(
                        meeting, attendee=person, sequence=sequence, method=method
                    ),
                ),
            )
        )
    # The meeting is locked, so no other run inserts these meanwhile.
    CalendarInvitation.objects.bulk_create(new)
    CalendarInvitation.objects.bulk_update(
        changed, ["sequence", "calendar_version", "cancelled", "sent_at"]
    )
    notices_record_each(kind=NoticeKind.MEETING_INVITATION, drafts=drafts)


def _email_body(title: str, link: str, method: str) -> str:
    effect = (
        "removes the meeting from"
        if method == "CANCEL"
        else "adds the meeting to, or updates it in,"
    )
    return (
        f"{title}.\n\nThe attached calendar entry {effect} your calendar.\n\n"
        "Reply, and read the papers once they are issued, in the partner "
        "portal:\n"
        f"{absolute_url(link)}\n\n"
        "This email holds no personal details. Do not reply to it with any.\n"
    )
