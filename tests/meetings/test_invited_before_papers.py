"""Issue 24: the invitation goes out as soon as an organisation is on the
agenda, so its staff must be able to open the meeting, reply and confirm the
confidentiality statement before papers are issued, while the cases on the
agenda, the packs and the minutes wait for the papers.

``meetings.selectors`` has two reads: ``meetings_invited_to`` (the meeting)
and ``meetings_visible_to`` (its papers)."""

from types import SimpleNamespace

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from meetings.calendar import calendar_invitations_sync
from meetings.models import Attendance, Reply
from meetings.selectors import meetings_invited_to, meetings_visible_to
from meetings.services import (
    MeetingRefused,
    agenda_item_invite,
    attendance_reply,
    confidentiality_confirm,
    meeting_cancel,
    papers_issue,
)
from notices.models import Notice
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import acknowledge, agreement_tree, publish_change
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import person, submitted_referral

pytestmark = pytest.mark.django_db


def _referrer(organisation, first="Pat", last="Officer"):
    return UserFactory(
        organisation=organisation,
        roles=[Role.REFERRER],
        first_name=first,
        last_name=last,
    )


@pytest.fixture
def planned():
    """A planned meeting with Housing's case on it, Police invited, Fire
    not; papers not issued."""
    orgs = {name: OrganisationFactory(name=name) for name in
            ("Housing", "Police", "Fire")}  # fmt: skip
    boss = coordinator()
    boss.first_name, boss.last_name = "Chris", "Chair"
    boss.save()
    referral = accepted(
        submitted_referral(
            _referrer(orgs["Housing"], "Hana", "Housing"),
            people=[person(0, name="Vera Victim")],
        ),
        boss,
    )
    upcoming = meeting(boss)
    item = on_agenda(upcoming, referral, [orgs["Police"]], boss)
    return SimpleNamespace(
        boss=boss, orgs=orgs, referral=referral, meeting=upcoming, item=item,
        officer=_referrer(orgs["Police"], "Petra", "Constable"),
        colleague=_referrer(orgs["Police"], "Dev", "Sergeant"),
        outsider=_referrer(orgs["Fire"], "Fred", "Fire"),
    )  # fmt: skip


def _urls(meeting) -> dict[str, str]:
    return {
        "page": meeting.get_absolute_url(),
        "reply": reverse("meetings:reply", args=[meeting.pk]),
        "confidentiality": reverse("meetings:confidentiality", args=[meeting.pk]),
        "pack": reverse("meetings:pack", args=[meeting.pk]),
        "minutes": reverse("meetings:minutes_pdf", args=[meeting.pk]),
    }


def _page(person, url) -> str:
    """The page ``person`` gets at ``url``, which must open."""
    response = verified_client_for(person).get(url)
    assert response.status_code == 200, url
    return response.content.decode()


class TestInvitedStaffSeeTheMeeting:
    def test_the_page_shows_when_where_who_chairs_and_their_reply(self, planned):
        response = verified_client_for(planned.officer).get(
            planned.meeting.get_absolute_url()
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert str(planned.meeting) in body
        assert "Committee room 2, Town Hall" in body
        assert "Chris Chair" in body
        assert "Papers not issued yet" in body
        assert "Your attendance" in body
        assert _urls(planned.meeting)["reply"] in body
        assert _urls(planned.meeting)["confidentiality"] in body

    def test_only_how_many_cases_involve_them_no_case_detail(self, planned):
        body = _page(planned.officer, planned.meeting.get_absolute_url())
        assert "1 case on the agenda involves your organisation" in body
        for secret in (planned.referral.reference, "Vera", "Victim",
                       "Example Road", "N1 1XA", "from Housing"):  # fmt: skip
            assert secret not in body, secret
        urls = _urls(planned.meeting)
        assert urls["pack"] not in body
        assert urls["minutes"] not in body
        assert "Download your meeting pack" not in body
        # Sharing files with a meeting waits for the papers too.
        assert f"?meeting={planned.meeting.pk}" not in body

    def test_reading_the_page_is_audited(self, planned):
        verified_client_for(planned.officer).get(planned.meeting.get_absolute_url())
        assert AuditEvent.objects.filter(
            action="read",
            actor=planned.officer,
            object_type="meetings.meeting",
            object_id=str(planned.meeting.pk),
        ).exists()

    def test_the_list_shows_it_with_papers_not_issued_yet(self, planned):
        body = _page(planned.officer, reverse("meetings:index"))
        assert str(planned.meeting) in body
        assert "Papers not issued yet" in body
        assert "Planned" not in body

    def test_the_home_page_lists_it_as_a_next_meeting(self, planned):
        body = _page(planned.officer, "/")
        assert "Your next meetings" in body
        assert f"{planned.meeting}</a>: papers not issued yet" in body

    def test_the_selectors_keep_papers_apart(self, planned):
        assert list(meetings_invited_to(planned.officer)) == [planned.meeting]
        assert not meetings_visible_to(planned.officer).exists()
        papers_issue(meeting=planned.meeting, user=planned.boss)
        assert list(meetings_visible_to(planned.officer)) == [planned.meeting]


class TestRepliesBeforePapers:
    def test_apologies_naming_a_deputy_through_the_page(self, planned):
        client = verified_client_for(planned.officer)
        urls = _urls(planned.meeting)
        assert client.get(urls["reply"]).status_code == 200
        response = client.post(
            urls["reply"], {"reply": "apologies", "deputy": planned.colleague.pk}
        )
        assert response.status_code == 302
        row = Attendance.objects.get(user=planned.officer)
        assert row.reply == Reply.APOLOGIES
        assert Attendance.objects.get(user=planned.colleague).deputy_for == row
        body = client.get(urls["page"]).content.decode()
        assert "Apologies, " in body

    def test_confirming_confidentiality_through_the_page(self, planned):
        client = verified_client_for(planned.officer)
        url = _urls(planned.meeting)["confidentiality"]
        assert "once papers are issued" in client.get(url).content.decode()
        response = client.post(url, {"confirm": "on"}, follow=True)
        assert response.redirect_chain[-1][0] == planned.meeting.get_absolute_url()
        assert "papers once they are issued" in response.content.decode()
        row = Attendance.objects.get(user=planned.officer)
        assert row.confidentiality_confirmed_at is not None


class TestPapersWaitForIssue:
    def test_pack_and_minutes_are_404_even_after_confirming(self, planned):
        confidentiality_confirm(meeting=planned.meeting, user=planned.officer)
        client = verified_client_for(planned.officer)
        urls = _urls(planned.meeting)
        assert client.get(urls["pack"]).status_code == 404
        assert client.get(urls["minutes"]).status_code == 404

    def test_once_issued_the_page_lists_their_case(self, planned):
        papers_issue(meeting=planned.meeting, user=planned.boss)
        body = _page(planned.officer, planned.meeting.get_absolute_url())
        assert planned.referral.reference in body
        assert "Papers are not issued yet" not in body


class TestNotInvited:
    def test_another_organisation_gets_404_everywhere(self, planned):
        client = verified_client_for(planned.outsider)
        for name, url in _urls(planned.meeting).items():
            assert client.get(url).status_code == 404, name
        reply = client.post(_urls(planned.meeting)["reply"], {"reply": "attending"})
        assert reply.status_code == 404
        assert not Attendance.objects.filter(user=planned.outsider).exists()
        assert str(planned.meeting) not in (
            client.get(reverse("meetings:index")).content.decode()
        )
        assert not meetings_invited_to(planned.outsider).exists()

    def test_an_organisation_taken_off_the_agenda_loses_the_meeting(self, planned):
        attendance_reply(
            meeting=planned.meeting, user=planned.officer, reply=Reply.ATTENDING
        )
        agenda_item_invite(item=planned.item, invited=[], user=planned.boss)
        client = verified_client_for(planned.officer)
        urls = _urls(planned.meeting)
        assert client.get(urls["page"]).status_code == 404
        assert client.get(urls["reply"]).status_code == 404
        # Their earlier reply keeps no place at the meeting.
        with pytest.raises(MeetingRefused, match="not invited"):
            attendance_reply(
                meeting=planned.meeting, user=planned.officer, reply=Reply.APOLOGIES
            )
        assert not meetings_invited_to(planned.officer).exists()


class TestDeputies:
    @pytest.fixture
    def deputy(self, planned):
        """The chair sends apologies and names a colleague whose organisation
        is invited to no case."""
        colleague = _referrer(planned.boss.organisation, "Dee", "Puty")
        attendance_reply(
            meeting=planned.meeting, user=planned.boss, reply=Reply.APOLOGIES,
            deputy=colleague,
        )  # fmt: skip
        return colleague

    def test_a_deputy_sees_the_planned_meeting_and_no_case(self, planned, deputy):
        client = verified_client_for(deputy)
        response = client.get(planned.meeting.get_absolute_url())
        assert response.status_code == 200
        body = response.content.decode()
        assert "You are the deputy of Chris Chair" in body
        assert "Papers are not issued yet." in body
        assert "involve" not in body
        assert planned.referral.reference not in body
        assert str(planned.meeting) in (
            client.get(reverse("meetings:index")).content.decode()
        )
        url = _urls(planned.meeting)["reply"]
        assert client.post(url, {"reply": "attending"}).status_code == 302
        assert Attendance.objects.get(user=deputy).reply == Reply.ATTENDING

    def test_no_longer_named_no_longer_sees_it(self, planned, deputy):
        attendance_reply(
            meeting=planned.meeting, user=planned.boss, reply=Reply.APOLOGIES
        )
        client = verified_client_for(deputy)
        assert client.get(planned.meeting.get_absolute_url()).status_code == 404


class TestCancelled:
    def test_invited_staff_are_told_plainly(self, planned):
        meeting_cancel(meeting=planned.meeting, user=planned.boss)
        client = verified_client_for(planned.officer)
        response = client.get(planned.meeting.get_absolute_url())
        assert response.status_code == 200
        body = response.content.decode()
        assert "This meeting was cancelled" in body
        assert "Committee room 2" not in body
        assert "1 case" not in body
        assert AuditEvent.objects.filter(
            action="read", actor=planned.officer, object_id=str(planned.meeting.pk)
        ).exists()
        # Nothing to reply to, and not in their list of meetings.
        assert client.get(_urls(planned.meeting)["reply"]).status_code == 404
        assert str(planned.meeting) not in (
            client.get(reverse("meetings:index")).content.decode()
        )

    def test_the_uninvited_still_get_404_and_coordinators_the_full_page(self, planned):
        meeting_cancel(meeting=planned.meeting, user=planned.boss)
        url = planned.meeting.get_absolute_url()
        assert verified_client_for(planned.outsider).get(url).status_code == 404
        body = verified_client_for(planned.boss).get(url).content.decode()
        assert planned.referral.reference in body
        assert "This meeting was cancelled" not in body


class TestAgreementStillDecides:
    def test_an_organisation_behind_with_the_isa_sees_nothing(self, settings):
        housing, police = (
            OrganisationFactory(party=False, name=name)
            for name in ("Housing", "Police")
        )
        _, isa, _, boss = agreement_tree(organisations=[housing, police])
        for organisation in (housing, police):
            acknowledge(isa.latest_version, organisation)
        referral = accepted(submitted_referral(_referrer(housing)), boss)
        upcoming = meeting(boss)
        on_agenda(upcoming, referral, [police], boss)
        officer = _referrer(police)
        client = verified_client_for(officer)
        assert client.get(upcoming.get_absolute_url()).status_code == 200
        # A material change Police have not acknowledged, the grace period over.
        publish_change(isa, boss, number="2.0")
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        response = client.get(upcoming.get_absolute_url())
        assert response.status_code == 403
        assert "Case material is closed to your organisation" in (
            response.content.decode()
        )
        assert not meetings_invited_to(officer).exists()


class TestNoLongerInvited:
    """The calendar cancellation's "No longer invited" notice links to the
    meeting: its page says so plainly, rather than a 404, and shows nothing
    of the meeting but its name."""

    @pytest.fixture
    def taken_off(self, planned, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            calendar_invitations_sync(planned.meeting.pk)
        with django_capture_on_commit_callbacks(execute=True):
            agenda_item_invite(item=planned.item, invited=[], user=planned.boss)
            calendar_invitations_sync(planned.meeting.pk)
        return planned

    def test_the_notice_opens_a_plain_page(self, taken_off):
        officer = taken_off.officer
        notice = Notice.objects.get(
            recipient=officer, title__startswith="No longer invited"
        )
        response = verified_client_for(officer).get(notice.link)
        assert response.status_code == 200
        text = response.content.decode()
        assert "You are no longer invited to this meeting" in text
        assert taken_off.referral.reference not in text
        assert "Vera Victim" not in text
        assert "Reply" not in text
        assert AuditEvent.objects.filter(
            actor=officer, object_id=str(taken_off.meeting.pk)
        ).exists()

    def test_nothing_else_opens_for_them(self, taken_off):
        client = verified_client_for(taken_off.officer)
        urls = _urls(taken_off.meeting)
        for name in ("reply", "confidentiality", "pack", "minutes"):
            assert client.get(urls[name]).status_code == 404, name

    def test_someone_never_invited_still_gets_not_found(self, taken_off):
        client = verified_client_for(taken_off.outsider)
        assert client.get(taken_off.meeting.get_absolute_url()).status_code == 404
