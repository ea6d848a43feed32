"""Recording a meeting: attendance, each case's discussion and actions, the
minutes, and the actions agencies carry to the next meeting."""

import io
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role
from audit.models import AuditEvent
from meetings.models import Action, ActionStatus, Attendance, MeetingStatus, Rag
from meetings.selectors import minutes_late
from meetings.services import (
    MeetingRefused,
    action_add,
    action_update,
    attendance_record,
    case_discussion_record,
    meeting_mark_held,
    minutes_issue,
    minutes_pdf,
    minutes_save,
    pack_context,
    pack_download,
    papers_issue,
)
from portal.calendar import working_days_after, working_days_before
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import (
    accepted,
    confirmed,
    coordinator,
    meeting,
    on_agenda,
    started,
)
from tests.factories.referrals import person, submitted_referral

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def _referrer(organisation, **kwargs):
    return UserFactory(organisation=organisation, roles=[Role.REFERRER], **kwargs)


@pytest.fixture
def setup():
    """A meeting with papers issued: case one from Housing with Police invited,
    case two from Fire alone."""
    boss = coordinator()
    police, housing, fire = (OrganisationFactory(name=n) for n in
                             ("Police", "Housing", "Fire"))  # fmt: skip
    first = accepted(
        submitted_referral(
            UserFactory(organisation=housing), people=[person(0, name="Vera Victim")]
        ),
        boss,
    )
    second = accepted(
        submitted_referral(
            UserFactory(organisation=fire), people=[person(0, name="Other Case")]
        ),
        boss,
    )
    upcoming = meeting(boss, days_ahead=1)
    item = on_agenda(upcoming, first, [police], boss)
    other = on_agenda(upcoming, second, [], boss)
    papers_issue(meeting=upcoming, user=boss)  # packs build on commit: not here
    started(upcoming)  # under way, so it can be marked held
    return {"boss": boss, "meeting": upcoming, "police": police, "housing": housing,
            "fire": fire, "first": first, "second": second, "item": item,
            "other": other}  # fmt: skip


def _add_action(setup, *, owner=None, description="Visit the address", days=14):
    return action_add(
        item=setup["item"],
        owner=owner or setup["police"],
        officer="PC Example",
        description=description,
        due=timezone.localdate() + timedelta(days=days),
        user=setup["boss"],
    )


class TestAttendance:
    def test_a_row_is_upserted_and_confidentiality_time_is_recorded_once(self, setup):
        args = {"meeting": setup["meeting"], "organisation": setup["police"],
                "name": "Sam Sergeant", "user": setup["boss"]}  # fmt: skip
        row = attendance_record(
            **args, status="apologies", confidentiality_confirmed=False
        )
        assert row.confidentiality_confirmed_at is None
        row = attendance_record(
            **args, status="present", confidentiality_confirmed=True
        )
        confirmed_at = row.confidentiality_confirmed_at
        assert confirmed_at is not None
        again = attendance_record(
            **{**args, "name": " sam  sergeant "},
            status="present",
            confidentiality_confirmed=True,
        )
        assert again.pk == row.pk
        assert again.confidentiality_confirmed_at == confirmed_at
        assert Attendance.objects.count() == 1
        assert Attendance.objects.get().status == "present"

    def test_only_coordinators_record_attendance(self, setup):
        with pytest.raises(MeetingRefused):
            attendance_record(
                meeting=setup["meeting"], organisation=setup["police"], name="X",
                status="present", confidentiality_confirmed=True,
                user=_referrer(setup["police"]),
            )  # fmt: skip


class TestHeld:
    def test_held_only_from_papers_issued(self, setup):
        boss = setup["boss"]
        with pytest.raises(MeetingRefused, match="papers are issued"):
            meeting_mark_held(meeting=meeting(boss), user=boss)
        held = meeting_mark_held(meeting=setup["meeting"], user=boss)
        assert held.status == MeetingStatus.HELD
        with pytest.raises(MeetingRefused, match="'Held'"):
            meeting_mark_held(meeting=held, user=boss)


class TestCaseDiscussion:
    @pytest.mark.parametrize(("risk", "days"), [("high", 14), ("medium", 28),
                                                ("standard", 56)])  # fmt: skip
    def test_next_review_follows_the_risk_after_discussion(self, setup, risk, days):
        item = case_discussion_record(
            item=setup["item"], discussion="Discussed.", risk_after=risk,
            decisions="Refer to IDVA.", user=setup["boss"],
        )  # fmt: skip
        item.refresh_from_db()
        assert item.next_review == setup["meeting"].day + timedelta(days=days)
        assert item.risk_after == risk


class TestActions:
    def test_the_owner_must_be_invited_to_the_case(self, setup):
        with pytest.raises(MeetingRefused, match="not invited"):
            _add_action(setup, owner=setup["fire"])
        action = _add_action(setup)
        assert action.referral == setup["first"]
        assert AuditEvent.objects.filter(action="meeting.action_added").exists()

    def test_a_due_date_in_the_past_is_refused(self, setup):
        with pytest.raises(MeetingRefused, match="Due date"):
            _add_action(setup, days=-1)
        assert _add_action(setup, days=0).due == timezone.localdate()

    def test_rag(self):
        today = timezone.localdate()

        def rag(days, status=ActionStatus.OPEN):
            return Action(due=today + timedelta(days=days), status=status).rag(today)

        assert rag(-1) == Rag.RED
        assert rag(0) == Rag.AMBER
        assert rag(7) == Rag.AMBER
        assert rag(8) == Rag.GREEN
        assert rag(-5, ActionStatus.DONE) == Rag.NONE

    @pytest.mark.slow
    def test_open_actions_carry_into_the_next_meetings_pack_and_done_ones_do_not(
        self, setup
    ):
        boss = setup["boss"]
        still_open = _add_action(setup, description="Fit a door alarm")
        done = _add_action(setup, description="Share the risk assessment")
        action_update(action=done, user=boss, status=ActionStatus.DONE, update="Sent.")
        meeting_mark_held(meeting=setup["meeting"], user=boss)
        later = meeting(boss, days_ahead=28)
        on_agenda(later, setup["first"], [setup["police"]], boss)

        context = pack_context(later, setup["police"])
        assert context["cases"][0]["actions"] == [still_open]
        download = pack_download(
            meeting=later,
            organisation=setup["police"],
            user=confirmed(later, _referrer(setup["police"])),
        )
        text = _text(b"".join(download.chunks))
        assert "Fit a door alarm" in text
        assert "Share the risk assessment" not in text


class TestOurActions:
    def test_lists_only_the_organisations_actions_and_updates_are_audited(self, setup):
        ours = _add_action(setup, description="Police patrols past the address")
        _add_action(setup, owner=setup["housing"], description="Change the locks")
        client = verified_client_for(_referrer(setup["police"]))
        page = client.get(reverse("meetings:our_actions")).content.decode()
        assert "Police patrols past the address" in page
        assert "Change the locks" not in page

        response = client.post(
            reverse("meetings:update_action", args=[ours.pk]),
            {"status": ActionStatus.DONE, "update": "Patrols in place."},
        )
        assert response.status_code == 302
        ours.refresh_from_db()
        assert ours.status == ActionStatus.DONE
        event = AuditEvent.objects.get(action="meeting.action_updated")
        assert event.object_id == str(ours.pk)


def _issue_minutes(setup, capture):
    boss = setup["boss"]
    case_discussion_record(
        item=setup["item"], discussion="Police discussed the neighbour.",
        risk_after="high", decisions="Safety plan.", user=boss,
    )  # fmt: skip
    case_discussion_record(
        item=setup["other"], discussion="Fire fitted smoke alarms.",
        risk_after="standard", decisions="None.", user=boss,
    )  # fmt: skip
    _add_action(setup, description="Fit a door alarm")
    attendance_record(
        meeting=setup["meeting"], organisation=setup["police"], name="Sam Sergeant",
        status="present", confidentiality_confirmed=True, user=boss,
    )  # fmt: skip
    meeting_mark_held(meeting=setup["meeting"], user=boss)
    minutes_save(meeting=setup["meeting"], general_minutes="Apologies: Fire.",
                 user=boss)  # fmt: skip
    with capture(execute=True):
        return minutes_issue(meeting=setup["meeting"], user=boss)


class TestMinutes:
    def test_issue_only_when_held_then_agencies_are_emailed_without_personal_data(
        self, setup, django_capture_on_commit_callbacks
    ):
        police_officer = _referrer(setup["police"])
        fire_officer = _referrer(setup["fire"])
        _referrer(OrganisationFactory(name="Not invited"))
        with pytest.raises(MeetingRefused, match="held"):
            minutes_issue(meeting=setup["meeting"], user=setup["boss"])
        mail.outbox.clear()

        issued = _issue_minutes(setup, django_capture_on_commit_callbacks)
        assert issued.status == MeetingStatus.MINUTES_ISSUED
        assert issued.minutes_issued_at is not None
        recipients = {m.to[0] for m in mail.outbox}
        assert police_officer.email in recipients
        assert fire_officer.email in recipients
        assert len(recipients) == len(mail.outbox)
        assert all(m.subject.startswith("Minutes issued") for m in mail.outbox)
        for message in mail.outbox:
            for secret in ("Vera Victim", "Other Case", setup["first"].reference,
                           "neighbour", "07700"):  # fmt: skip
                assert secret not in message.subject + message.body
        with pytest.raises(MeetingRefused):
            minutes_issue(meeting=issued, user=setup["boss"])

    @pytest.mark.slow
    def test_an_agencys_minutes_hold_only_its_cases_and_the_watermark(
        self, setup, django_capture_on_commit_callbacks
    ):
        issued = _issue_minutes(setup, django_capture_on_commit_callbacks)
        reader = _referrer(setup["police"], first_name="Petra", last_name="Constable")
        confirmed(issued, reader)
        text = _text(
            minutes_pdf(meeting=issued, organisation=setup["police"], user=reader)
        )
        assert setup["first"].reference in text
        assert "Police discussed the neighbour." in text
        assert "Fit a door alarm" in text
        assert "Apologies: Fire." in text
        assert "Sam Sergeant" in text
        assert setup["second"].reference not in text
        assert "Fire fitted smoke alarms." not in text
        assert "Downloaded by Petra Constable, Police" in text
        assert AuditEvent.objects.filter(action="meeting.minutes_downloaded").exists()

    @pytest.mark.slow
    def test_download_view_is_for_invited_agencies_once_issued(
        self, setup, django_capture_on_commit_callbacks
    ):
        url = reverse("meetings:minutes_pdf", args=[setup["meeting"].pk])
        reader = _referrer(setup["police"])
        police = verified_client_for(reader)
        assert police.get(url).status_code == 404  # not issued yet
        _issue_minutes(setup, django_capture_on_commit_callbacks)
        refused = police.get(url)
        assert refused.status_code == 403  # confidentiality not confirmed
        assert "Confirm the confidentiality statement first" in refused.text
        confirmed(setup["meeting"], reader)
        response = police.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert setup["second"].reference not in _text(response.content)
        outsider = verified_client_for(_referrer(OrganisationFactory()))
        assert outsider.get(url).status_code == 404
        # An invited agency may not ask for another's minutes.
        assert setup["second"].reference not in _text(
            police.get(url, {"organisation": setup["fire"].slug}).content
        )
        boss = verified_client_for(setup["boss"])
        # Coordinators confirm the statement too before reading the minutes.
        assert boss.get(url, {"organisation": setup["fire"].slug}).status_code == 403
        confirmed(setup["meeting"], setup["boss"])
        fire = boss.get(url, {"organisation": setup["fire"].slug})
        assert setup["second"].reference in _text(fire.content)


class TestMinutesLate:
    def _held_on(self, day, boss):
        held = meeting(boss)
        held.starts_at = timezone.make_aware(
            datetime.combine(day, datetime.min.time().replace(hour=10))
        )
        held.save(update_fields=["starts_at"])
        referral = accepted(submitted_referral(), boss)
        on_agenda(held, referral, [], boss)
        papers_issue(meeting=held, user=boss)
        return meeting_mark_held(meeting=held, user=boss)

    def test_flags_held_meetings_without_minutes_after_three_working_days(self):
        boss = coordinator()
        today = timezone.localdate()
        late = self._held_on(working_days_before(today, 4), boss)
        on_time = self._held_on(working_days_before(today, 3), boss)
        issued = self._held_on(working_days_before(today, 4), boss)
        minutes_issue(meeting=issued, user=boss)
        assert list(minutes_late(today)) == [late]
        assert working_days_after(on_time.day, 3) >= today  # due, not late

    def test_working_days_after_skips_weekends(self):
        friday = datetime(2026, 12, 11).date()
        assert working_days_after(friday, 1).isoformat() == "2026-12-14"
        assert working_days_after(friday, 3).isoformat() == "2026-12-16"


class TestRecordingPages:
    def test_others_get_404(self, setup):
        client = verified_client_for(_referrer(setup["police"]))
        meeting_id, item_id = setup["meeting"].pk, setup["item"].pk
        for url in (
            reverse("meetings:record", args=[meeting_id]),
            reverse("meetings:record_case", args=[meeting_id, item_id]),
            reverse("meetings:minutes", args=[meeting_id]),
        ):
            assert client.get(url).status_code == 404, url
        held = client.post(reverse("meetings:record_held", args=[meeting_id]))
        assert held.status_code == 404

    def test_attendance_errors_keep_what_was_typed(self, setup):
        client = verified_client_for(setup["boss"])
        url = reverse("meetings:record", args=[setup["meeting"].pk])
        response = client.post(url, {"name": "Sam Sergeant", "status": "present"})
        page = response.content.decode()
        assert response.status_code == 400
        assert "There is a problem" in page
        assert "Select the organisation" in page
        assert 'value="Sam Sergeant"' in page
        response = client.post(
            url,
            {"organisation": setup["police"].pk, "name": "Sam Sergeant",
             "status": "present", "confidentiality_confirmed": "on"},
        )  # fmt: skip
        assert response.status_code == 302
        assert Attendance.objects.get().confidentiality_confirmed_at is not None

    def test_case_page_records_discussion_and_refuses_an_uninvited_owner(self, setup):
        client = verified_client_for(setup["boss"])
        url = reverse(
            "meetings:record_case", args=[setup["meeting"].pk, setup["item"].pk]
        )
        assert client.get(url).status_code == 200
        response = client.post(
            url,
            {"form": "discussion", "discussion-discussion": "Talked it through.",
             "discussion-risk_after": "medium", "discussion-decisions": ""},
        )  # fmt: skip
        assert response.status_code == 302
        setup["item"].refresh_from_db()
        assert setup["item"].next_review == setup["meeting"].day + timedelta(days=28)
        past = timezone.localdate() - timedelta(days=1)
        response = client.post(
            url,
            {"form": "action", "action-owner": setup["fire"].pk,
             "action-officer": "Officer Typed", "action-description": "Typed text",
             "action-due_0": past.day, "action-due_1": past.month,
             "action-due_2": past.year},
        )  # fmt: skip
        page = response.content.decode()
        assert response.status_code == 400
        assert "Select an organisation invited to this case" in page
        assert "Due date must be today or in the future" in page
        assert 'value="Officer Typed"' in page
        assert not Action.objects.exists()

    def test_mark_held_and_issue_from_the_pages(
        self, setup, django_capture_on_commit_callbacks
    ):
        client = verified_client_for(setup["boss"])
        meeting_id = setup["meeting"].pk
        minutes_url = reverse("meetings:minutes", args=[meeting_id])
        refused = client.post(minutes_url, {"general_minutes": "Draft", "issue": ""})
        assert "Your minutes are saved" in refused.content.decode()
        held = client.post(reverse("meetings:record_held", args=[meeting_id]))
        assert held.status_code == 302
        with django_capture_on_commit_callbacks(execute=True):
            issued = client.post(minutes_url, {"general_minutes": "Final", "issue": ""})
        assert issued.status_code == 302
        setup["meeting"].refresh_from_db()
        assert setup["meeting"].status == MeetingStatus.MINUTES_ISSUED
        assert setup["meeting"].general_minutes == "Final"
        page = client.get(minutes_url).content.decode()
        assert f"?organisation={setup['police'].slug}" in page
        police = verified_client_for(_referrer(setup["police"]))
        detail = police.get(reverse("meetings:detail", args=[meeting_id]))
        assert (
            reverse("meetings:minutes_pdf", args=[meeting_id])
            in detail.content.decode()
        )
