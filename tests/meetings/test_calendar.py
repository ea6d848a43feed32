"""Calendar invitations: iCalendar attachments parsed back with the same
library, checked for UID, SEQUENCE and METHOD from invitation to change to
cancellation, and for what they must never hold."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from accounts.models import Role
from jobs.models import OutgoingEmail
from meetings.models import CalendarInvitation, MeetingStatus
from meetings.services import agenda_item_invite, meeting_cancel, meeting_update
from notices.models import Notice, NoticeKind
from notices.services import email_choices_save
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import person, submitted_referral

pytestmark = pytest.mark.django_db


def calendars_for(user) -> list:
    """Every calendar attachment delivered to ``user``, in order, parsed."""
    return [
        Calendar.from_ical(content)
        for message in mail.outbox
        if message.to == [user.email]
        for _, content, _ in message.attachments
    ]


def summary(calendar) -> tuple[str, str, int]:
    event = calendar.walk("VEVENT")[0]
    return str(calendar["METHOD"]), str(event["UID"]), int(event["SEQUENCE"])


@pytest.fixture
def planned(django_capture_on_commit_callbacks):
    orgs = {name: OrganisationFactory(name=name) for name in
            ("Housing", "Police", "Fire")}  # fmt: skip
    boss = coordinator()
    people = {
        name: UserFactory(organisation=org, roles=[Role.REFERRER])
        for name, org in orgs.items()
    }
    referral = accepted(
        submitted_referral(people["Housing"], people=[person(0, name="Vera Victim")]),
        boss,
    )
    with django_capture_on_commit_callbacks(execute=True):
        upcoming = meeting(boss, online_link="https://meet.example.org/cmarac")
        item = on_agenda(upcoming, referral, [orgs["Police"]], boss)
    return SimpleNamespace(
        boss=boss, orgs=orgs, people=people, meeting=upcoming, item=item,
        referral=referral,
    )  # fmt: skip


class TestCalendarInvitations:
    def test_invite_change_cancel_keep_the_uid_and_raise_the_sequence(
        self, planned, django_capture_on_commit_callbacks
    ):
        police = planned.people["Police"]
        [invite] = calendars_for(police)
        method, uid, sequence = summary(invite)
        assert (method, sequence) == ("REQUEST", 0)
        assert uid == f"cmarac-meeting-{planned.meeting.pk}@" + uid.split("@")[1]

        with django_capture_on_commit_callbacks(execute=True):
            meeting_update(
                meeting=planned.meeting,
                user=planned.boss,
                starts_at=planned.meeting.starts_at + timedelta(hours=2),
            )
        *_, update = calendars_for(police)
        assert summary(update) == ("REQUEST", uid, 1)
        event = update.walk("VEVENT")[0]
        assert event.decoded("DTSTART") == planned.meeting.starts_at + timedelta(
            hours=2
        )

        with django_capture_on_commit_callbacks(execute=True):
            meeting_cancel(meeting=planned.meeting, user=planned.boss)
        *_, cancel = calendars_for(police)
        assert summary(cancel) == ("CANCEL", uid, 2)
        assert str(cancel.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
        # Everyone who held a place got the cancellation, the chair too.
        for someone in (planned.boss, planned.people["Housing"], police):
            assert summary(calendars_for(someone)[-1])[0] == "CANCEL"
        planned.meeting.refresh_from_db()
        assert planned.meeting.status == MeetingStatus.CANCELLED

    def test_an_organisation_no_longer_invited_gets_a_cancellation(
        self, planned, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            agenda_item_invite(item=planned.item, invited=[], user=planned.boss)
        police = calendars_for(planned.people["Police"])
        assert [summary(c)[0] for c in police] == ["REQUEST", "CANCEL"]
        assert summary(police[1])[2] == 1
        # Housing, still invited, was sent nothing new.
        assert len(calendars_for(planned.people["Housing"])) == 1
        assert Notice.objects.filter(
            recipient=planned.people["Police"], title__startswith="No longer invited"
        ).exists()

    def test_nobody_uninvited_is_ever_sent_anything(self, planned):
        assert calendars_for(planned.people["Fire"]) == []
        assert not CalendarInvitation.objects.filter(
            user=planned.people["Fire"]
        ).exists()

    def test_no_case_detail_in_the_invitation(self, planned):
        [text] = [
            content
            for m in mail.outbox
            if m.to == [planned.people["Police"].email]
            for _, content, _ in m.attachments
        ]
        assert planned.referral.reference not in text
        assert "Vera" not in text and "Victim" not in text
        event = Calendar.from_ical(text).walk("VEVENT")[0]
        assert str(event["URL"]) == "https://meet.example.org/cmarac"
        assert event.decoded("DTSTART").utcoffset() == timedelta(0)

    def test_a_rerun_sends_nothing_twice(self, planned):
        from meetings.calendar import calendar_invitations_sync

        before = OutgoingEmail.objects.count()
        assert calendar_invitations_sync(planned.meeting.pk) == {
            "invited": 0,
            "updated": 0,
            "cancelled": 0,
        }
        assert OutgoingEmail.objects.count() == before

    def test_delivered_email_carries_a_text_calendar_part(
        self, django_capture_on_commit_callbacks
    ):
        boss = coordinator()
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            meeting(boss)
        [message] = mail.outbox
        [(name, content, mimetype)] = message.attachments
        assert name == "invite.ics"
        assert mimetype.startswith("text/calendar")
        assert 'text/calendar; method="REQUEST"' in message.message().as_string()
        assert summary(Calendar.from_ical(content))[0] == "REQUEST"
        # Emptied with the body once sent.
        assert OutgoingEmail.objects.get().attachment == ""

    def test_invitation_email_off_still_lists_the_notice(
        self, django_capture_on_commit_callbacks
    ):
        boss = coordinator()
        email_choices_save(user=boss, choices={NoticeKind.MEETING_INVITATION: False})
        with django_capture_on_commit_callbacks(execute=True):
            meeting(boss)
        assert not OutgoingEmail.objects.filter(to=boss.email).exists()
        assert Notice.objects.filter(
            recipient=boss, kind=NoticeKind.MEETING_INVITATION
        ).exists()


class TestCancelPage:
    def test_a_coordinator_confirms_then_cancels(self, planned):
        client = verified_client_for(planned.boss)
        url = reverse("meetings:cancel", args=[planned.meeting.pk])
        assert "Cancel this meeting?" in client.get(url).content.decode()
        response = client.post(url)
        assert response.status_code == 302
        planned.meeting.refresh_from_db()
        assert planned.meeting.status == MeetingStatus.CANCELLED
        # Cancelled once: the page now says why it cannot be done again.
        again = client.post(url)
        assert again.status_code == 400
        assert "Only a meeting that has not been held" in again.content.decode()

    def test_a_caseworker_cannot_cancel(self, planned):
        client = verified_client_for(planned.people["Housing"])
        url = reverse("meetings:cancel", args=[planned.meeting.pk])
        assert client.post(url).status_code in (403, 404)
        planned.meeting.refresh_from_db()
        assert planned.meeting.status == MeetingStatus.PLANNED


def test_the_invitation_link_opens_the_meeting_before_papers_are_issued(planned):
    police = planned.people["Police"]
    notice = Notice.objects.get(recipient=police, kind=NoticeKind.MEETING_INVITATION)
    assert notice.link == planned.meeting.get_absolute_url()
    assert verified_client_for(police).get(notice.link).status_code == 200
