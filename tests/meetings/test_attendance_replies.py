"""Invited people reply for themselves (attending, or apologies with a
deputy) and confirm the confidentiality statement, which gates the pack and
the minutes."""

from unittest import mock

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent, Outcome
from meetings.audit_actions import MeetingAction
from meetings.models import Attendance, AttendanceStatus, Reply
from meetings.services import (
    ConfidentialityNotConfirmed,
    MeetingRefused,
    attendance_record,
    attendance_reply,
    confidentiality_confirm,
    meeting_cancel,
    pack_download,
    papers_issue,
)
from meetings.services import packs as pack_services
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import submitted_referral
from tests.shared_setup import read_again, rolled_back_after_module

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """Made once for the module (tests/shared_setup.py); each test's own
    changes are rolled back after it."""
    with rolled_back_after_module(django_db_blocker):
        yield _world_made()


@pytest.fixture
def world(_world, db):
    return read_again(_world)


def _world_made():
    boss = coordinator()
    police = OrganisationFactory(name="Police")
    issued = meeting(boss)
    on_agenda(issued, accepted(submitted_referral(), boss), [police], boss)
    papers_issue(meeting=issued, user=boss)
    return {
        "boss": boss,
        "police": police,
        "meeting": issued,
        "officer": UserFactory(
            organisation=police, roles=[Role.REFERRER], first_name="Pat",
            last_name="Officer",
        ),
        "colleague": UserFactory(
            organisation=police, roles=[Role.REFERRER], first_name="Sam",
            last_name="Deputy",
        ),
        "outsider": UserFactory(roles=[Role.REFERRER]),
    }  # fmt: skip


class TestReply:
    def test_attending_records_the_persons_own_time(self, world):
        row = attendance_reply(
            meeting=world["meeting"], user=world["officer"], reply=Reply.ATTENDING
        )
        assert row.user == world["officer"]
        assert row.organisation == world["police"]
        assert row.name == "Pat Officer"
        assert row.reply == Reply.ATTENDING
        assert row.replied_at is not None
        assert row.status == ""  # the register at the meeting is the coordinator's
        event = AuditEvent.objects.get(action=MeetingAction.ATTENDANCE_REPLIED)
        assert event.detail["status"] == "attending"
        assert event.detail["deputy_named"] is False

    def test_double_submission_records_one_reply(self, world):
        first = attendance_reply(
            meeting=world["meeting"], user=world["officer"], reply=Reply.ATTENDING
        )
        again = attendance_reply(
            meeting=world["meeting"], user=world["officer"], reply=Reply.ATTENDING
        )
        assert again.replied_at == first.replied_at
        assert Attendance.objects.filter(meeting=world["meeting"]).count() == 1
        assert (
            AuditEvent.objects.filter(action=MeetingAction.ATTENDANCE_REPLIED).count()
            == 1
        )

    def test_apologies_with_a_deputy_invite_the_deputy(self, world):
        row = attendance_reply(
            meeting=world["meeting"],
            user=world["officer"],
            reply=Reply.APOLOGIES,
            deputy=world["colleague"],
        )
        deputy_row = Attendance.objects.get(user=world["colleague"])
        assert deputy_row.deputy_for == row
        assert deputy_row.reply == ""
        # The deputy replies and confirms for themselves.
        attendance_reply(
            meeting=world["meeting"], user=world["colleague"], reply=Reply.ATTENDING
        )
        confidentiality_confirm(meeting=world["meeting"], user=world["colleague"])
        deputy_row.refresh_from_db()
        assert deputy_row.reply == Reply.ATTENDING
        assert deputy_row.confidentiality_confirmed_at is not None
        assert deputy_row.deputy_for == row

    def test_a_deputy_from_another_organisation_is_refused(self, world):
        with pytest.raises(MeetingRefused, match="own organisation"):
            attendance_reply(
                meeting=world["meeting"],
                user=world["officer"],
                reply=Reply.APOLOGIES,
                deputy=world["outsider"],
            )
        assert not Attendance.objects.exists()

    def test_someone_not_invited_cannot_reply_or_confirm(self, world):
        with pytest.raises(MeetingRefused, match="not invited"):
            attendance_reply(
                meeting=world["meeting"], user=world["outsider"], reply=Reply.ATTENDING
            )
        with pytest.raises(MeetingRefused, match="not invited"):
            confidentiality_confirm(meeting=world["meeting"], user=world["outsider"])

    def test_another_organisation_cannot_reply_through_the_page(self, world):
        client = verified_client_for(world["outsider"])
        url = reverse("meetings:reply", args=[world["meeting"].pk])
        assert client.post(url, {"reply": "attending"}).status_code == 404
        assert not Attendance.objects.exists()

    def test_replies_close_when_the_meeting_is_cancelled(self, world):
        meeting_cancel(meeting=world["meeting"], user=world["boss"])
        with pytest.raises(MeetingRefused, match="Replies close"):
            attendance_reply(
                meeting=world["meeting"], user=world["officer"], reply=Reply.ATTENDING
            )

    def test_a_reply_links_the_row_the_coordinator_recorded(self, world):
        attendance_record(
            meeting=world["meeting"],
            organisation=world["police"],
            name="pat officer",
            status=AttendanceStatus.PRESENT,
            confidentiality_confirmed=False,
            user=world["boss"],
        )
        row = attendance_reply(
            meeting=world["meeting"], user=world["officer"], reply=Reply.ATTENDING
        )
        assert Attendance.objects.get().pk == row.pk
        assert row.user == world["officer"]


class TestConfidentiality:
    def test_confirming_keeps_the_first_time(self, world):
        first = confidentiality_confirm(meeting=world["meeting"], user=world["officer"])
        again = confidentiality_confirm(meeting=world["meeting"], user=world["officer"])
        assert first.confidentiality_confirmed_at == again.confidentiality_confirmed_at
        assert (
            AuditEvent.objects.filter(
                action=MeetingAction.CONFIDENTIALITY_CONFIRMED
            ).count()
            == 1
        )

    def test_the_pack_is_refused_before_confirming_and_audited(self, world):
        with (
            mock.patch.object(pack_services, "pack_build") as build,
            pytest.raises(ConfidentialityNotConfirmed),
        ):
            pack_download(
                meeting=world["meeting"],
                organisation=world["police"],
                user=world["officer"],
            )
        build.assert_not_called()
        event = AuditEvent.objects.get(action=MeetingAction.PACK_DOWNLOAD_REFUSED)
        assert event.outcome == Outcome.DENIED
        assert event.detail["reason"] == "confidentiality_not_confirmed"

    def test_coordinators_confirm_too(self, world):
        with pytest.raises(ConfidentialityNotConfirmed):
            pack_download(
                meeting=world["meeting"],
                organisation=world["police"],
                user=world["boss"],
            )

    def test_the_pack_page_refuses_plainly_with_a_link(self, world):
        client = verified_client_for(world["officer"])
        response = client.get(reverse("meetings:pack", args=[world["meeting"].pk]))
        assert response.status_code == 403
        body = response.content.decode()
        assert "Confirm the confidentiality statement first" in body
        assert reverse("meetings:confidentiality", args=[world["meeting"].pk]) in body

    def test_confirming_through_the_page(self, world):
        client = verified_client_for(world["officer"])
        url = reverse("meetings:confidentiality", args=[world["meeting"].pk])
        assert "keep the papers" in client.get(url).content.decode()
        refused = client.post(url, {})
        assert refused.status_code == 400
        assert "govuk-error-summary" in refused.content.decode()
        assert client.post(url, {"confirm": "on"}).status_code == 302
        assert Attendance.objects.get(
            user=world["officer"]
        ).confidentiality_confirmed_at

    @pytest.mark.slow
    def test_the_pack_downloads_after_confirming(self, world):
        confidentiality_confirm(meeting=world["meeting"], user=world["officer"])
        client = verified_client_for(world["officer"])
        response = client.get(reverse("meetings:pack", args=[world["meeting"].pk]))
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF")


class TestCoordinatorsTable:
    def test_the_meeting_page_lists_who_replied(self, world):
        attendance_reply(
            meeting=world["meeting"],
            user=world["officer"],
            reply=Reply.APOLOGIES,
            deputy=world["colleague"],
        )
        confidentiality_confirm(meeting=world["meeting"], user=world["colleague"])
        client = verified_client_for(world["boss"])
        body = client.get(world["meeting"].get_absolute_url()).content.decode()
        table = body[body.index('id="replies"') :]
        assert "Pat Officer" in table
        assert "Apologies" in table
        assert "Deputy for Pat Officer" in table
        assert "Not yet" in table  # Pat has not confirmed

    def test_the_person_sees_their_reply_and_links(self, world):
        client = verified_client_for(world["officer"])
        body = client.get(world["meeting"].get_absolute_url()).content.decode()
        assert "Your attendance" in body
        assert reverse("meetings:reply", args=[world["meeting"].pk]) in body
        assert reverse("meetings:confidentiality", args=[world["meeting"].pk]) in body


class TestDeputyFromAnOrganisationNotInvited:
    """The chair sends apologies and names a colleague whose organisation is
    invited to no case. The deputy is sent the invitation, so the link in it
    must open the meeting (it answered 404), without any case or pack."""

    @pytest.fixture
    def deputy(self, world):
        chair = world["boss"]
        colleague = UserFactory(
            organisation=chair.organisation, roles=[Role.REFERRER],
            first_name="Dee", last_name="Puty",
        )  # fmt: skip
        attendance_reply(
            meeting=world["meeting"], user=chair, reply=Reply.APOLOGIES,
            deputy=colleague,
        )  # fmt: skip
        return colleague

    def test_the_deputy_opens_the_meeting_and_replies(self, world, deputy):
        client = verified_client_for(deputy)
        meeting = world["meeting"]
        response = client.get(meeting.get_absolute_url())
        assert response.status_code == 200
        body = response.content.decode()
        assert "You are the deputy of" in body
        assert "1 case on the agenda does not involve your organisation" in body
        assert "Download your meeting pack" not in body
        assert str(meeting) in client.get(reverse("meetings:index")).content.decode()
        url = reverse("meetings:reply", args=[meeting.pk])
        assert client.post(url, {"reply": "attending"}).status_code == 302
        assert Attendance.objects.get(user=deputy).reply == Reply.ATTENDING

    def test_the_deputy_gets_no_pack(self, world, deputy):
        client = verified_client_for(deputy)
        url = reverse("meetings:pack", args=[world["meeting"].pk])
        assert client.get(url).status_code == 404

    def test_no_longer_deputy_no_longer_sees_it(self, world, deputy):
        attendance_reply(
            meeting=world["meeting"], user=world["boss"], reply=Reply.APOLOGIES
        )
        client = verified_client_for(deputy)
        assert client.get(world["meeting"].get_absolute_url()).status_code == 404
