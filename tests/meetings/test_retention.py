"""Retention of a meeting's own record: after the ISA's meeting period,
counted from the meeting's date, its general minutes, attendance register,
packs and the minutes' words on each case go; a legal hold on a case keeps
that case's discussion (and the register of who heard it) until it ends; the
packs and minutes can no longer be downloaded; a ``MeetingTombstone`` says
what went.

Time travel: the job is asked about a chosen day (``today``): the day before
and the day after the period ends, under the version in force then.
"""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from agreements.services import add_months
from audit.models import AuditEvent, Outcome
from files.stored import kind_for
from meetings.audit_actions import MeetingAction
from meetings.models import (
    Action,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingPack,
    MeetingTombstone,
)
from meetings.selectors import minutes_late
from meetings.services import (
    MeetingRefused,
    action_add,
    attendance_record,
    case_discussion_record,
    meeting_mark_held,
    minutes_issue,
    minutes_save,
    pack_build,
    papers_issue,
)
from referrals.retention import legal_hold_place, legal_hold_remove, retention_apply
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import retention_version
from tests.factories.meetings import (
    accepted,
    coordinator,
    meeting,
    on_agenda,
    started,
)
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db

BY = "test run"
ATTENDEE = "Wilhelmina Registerly"


@pytest.fixture
def held():
    """A meeting held an hour ago, minutes issued: two Housing cases with
    Police invited, each discussed, one with an action; a register of two."""
    retention_version(meeting_months=24)
    boss = coordinator()
    police, housing = (
        OrganisationFactory(name="Police"),
        OrganisationFactory(name="Housing"),
    )
    referrer = UserFactory(organisation=housing, roles=[Role.REFERRER])
    the_meeting = meeting(boss, days_ahead=1)
    cases = [accepted(submitted_referral(referrer), boss) for _ in range(2)]
    items = [on_agenda(the_meeting, case, [police], boss) for case in cases]
    papers_issue(meeting=the_meeting, user=boss)
    started(the_meeting)
    for name in (ATTENDEE, "Bartholomew Presentman"):
        attendance_record(
            meeting=the_meeting, organisation=police, name=name, status="present",
            confidentiality_confirmed=True, user=boss,
        )  # fmt: skip
    meeting_mark_held(meeting=the_meeting, user=boss)
    for index, item in enumerate(items):
        case_discussion_record(
            item=item, discussion=f"Discussion {index} with {ATTENDEE}",
            risk_after="medium", decisions=f"Decision {index}", user=boss,
        )  # fmt: skip
    action_add(
        item=items[0], owner=police, officer="PC Example", description="Visit",
        due=timezone.localdate() + timedelta(days=7), user=boss,
    )  # fmt: skip
    minutes_save(meeting=the_meeting, general_minutes="Apologies: Fire", user=boss)
    minutes_issue(meeting=the_meeting, user=boss)
    the_meeting.refresh_from_db()
    officer = UserFactory(organisation=police, roles=[Role.REFERRER])
    return {"boss": boss, "meeting": the_meeting, "items": items, "cases": cases,
            "police": police, "officer": officer}  # fmt: skip


def _due(meeting_, months=24):
    return add_months(meeting_.day, months)


def _records(result):
    return next(r for r in result.records if r.kind == "meeting records")


class TestTimeTravel:
    def test_day_before_the_period_ends_everything_is_kept(self, held):
        the_meeting = held["meeting"]
        result = retention_apply(
            authorised_by=BY, today=_due(the_meeting) - timedelta(days=1)
        )
        assert _records(result).disposed == []
        the_meeting.refresh_from_db()
        assert the_meeting.disposed_at is None
        assert the_meeting.general_minutes == "Apologies: Fire"
        assert Attendance.objects.filter(meeting=the_meeting).count() == 2
        assert not MeetingTombstone.objects.exists()

    def test_day_after_minutes_attendance_and_discussion_are_gone(self, held):
        the_meeting = held["meeting"]
        result = retention_apply(
            authorised_by=BY, today=_due(the_meeting) + timedelta(days=1)
        )
        assert _records(result).disposed == [
            f"meeting {the_meeting.pk} of {the_meeting.day}"
        ]
        the_meeting.refresh_from_db()
        assert the_meeting.disposed_at is not None
        assert the_meeting.general_minutes == ""
        assert not Attendance.objects.filter(meeting=the_meeting).exists()
        for item in AgendaItem.objects.filter(meeting=the_meeting):
            assert (item.discussion, item.decisions) == ("", "")
            # The case's own record stays with the case.
            assert item.risk_after == "medium" and item.next_review is not None
        assert Action.objects.filter(agenda_item__meeting=the_meeting).count() == 1
        tombstone = MeetingTombstone.objects.get()
        assert tombstone.meeting == the_meeting
        assert tombstone.meeting_date == the_meeting.day
        assert tombstone.period_months == 24
        assert tombstone.agreement_version == result.schedule.version_label
        assert tombstone.counts == {
            "general_minutes": 1,
            "case_discussions": 2,
            "attendance": 2,
            "meeting_packs": 0,
            "stored_files": 0,
        }
        assert tombstone.cases_held == 0
        assert len(tombstone.content_hash) == 64
        event = AuditEvent.objects.get(action=MeetingAction.RECORD_DISPOSED)
        assert event.detail["content_hash"] == tombstone.content_hash
        assert ATTENDEE not in str(event.detail)
        # Nothing is left: the next run does nothing more.
        retention_apply(authorised_by=BY, today=_due(the_meeting) + timedelta(2))
        assert MeetingTombstone.objects.count() == 1

    def test_a_new_version_with_a_shorter_period_applies_from_its_date(self, held):
        the_meeting = held["meeting"]
        retention_version(meeting_months=12)
        retention_apply(authorised_by=BY, today=_due(the_meeting, 12) - timedelta(1))
        assert not MeetingTombstone.objects.exists()
        retention_apply(authorised_by=BY, today=_due(the_meeting, 12))
        assert MeetingTombstone.objects.get().period_months == 12

    def test_dry_run_destroys_nothing(self, held):
        the_meeting = held["meeting"]
        result = retention_apply(
            authorised_by=BY, dry_run=True, today=_due(the_meeting)
        )
        assert _records(result).disposed
        the_meeting.refresh_from_db()
        assert the_meeting.disposed_at is None
        assert Attendance.objects.filter(meeting=the_meeting).exists()

    def test_the_command_reports_the_records(self, held):
        out = io.StringIO()
        call_command("apply_retention", "--dry-run", stdout=out)
        assert "Would dispose of 0 meeting records (24 months after the meeting)" in (
            out.getvalue()
        )

    def test_future_and_recent_meetings_are_never_due(self, held):
        upcoming = meeting(held["boss"], days_ahead=30)
        retention_apply(authorised_by=BY, today=_due(held["meeting"]))
        upcoming.refresh_from_db()
        assert upcoming.disposed_at is None


class TestLegalHold:
    def test_a_held_case_keeps_its_discussion_and_the_register(self, held):
        boss, the_meeting = held["boss"], held["meeting"]
        kept_item, other_item = held["items"]
        hold = legal_hold_place(
            referral=held["cases"][0], user=boss, reason="Inquest",
            review_date=timezone.localdate() + timedelta(days=90),
        )  # fmt: skip
        after = _due(the_meeting) + timedelta(days=1)
        result = retention_apply(authorised_by=BY, today=after)
        assert _records(result).held == [
            f"meeting {the_meeting.pk} of {the_meeting.day}"
        ]
        kept_item.refresh_from_db()
        other_item.refresh_from_db()
        assert kept_item.discussion.startswith("Discussion 0")
        assert other_item.discussion == ""
        assert Attendance.objects.filter(meeting=the_meeting).count() == 2
        first = MeetingTombstone.objects.get()
        assert first.cases_held == 1
        assert first.counts["case_discussions"] == 1
        assert first.counts["attendance"] == 0
        # While the hold stands, later runs destroy nothing more.
        retention_apply(authorised_by=BY, today=after + timedelta(days=1))
        assert MeetingTombstone.objects.count() == 1

        legal_hold_remove(hold=hold, user=boss, reason="Inquest closed")
        retention_apply(authorised_by=BY, today=after + timedelta(days=2))
        kept_item.refresh_from_db()
        assert kept_item.discussion == ""
        assert not Attendance.objects.filter(meeting=the_meeting).exists()
        second = MeetingTombstone.objects.order_by("-pk").first()
        assert second != first
        assert second.counts["case_discussions"] == 1
        assert second.counts["attendance"] == 2
        assert second.cases_held == 0


class TestAfterDisposal:
    def _disposed(self, held) -> Meeting:
        retention_apply(authorised_by=BY, today=_due(held["meeting"]))
        held["meeting"].refresh_from_db()
        return held["meeting"]

    def test_packs_and_minutes_answer_410_and_the_refusal_is_audited(self, held):
        the_meeting = self._disposed(held)
        for user in (held["officer"], held["boss"]):
            client = verified_client_for(user)
            slug = held["police"].slug
            query = "" if user == held["officer"] else f"?organisation={slug}"
            pack = client.get(reverse("meetings:pack", args=[the_meeting.pk]) + query)
            assert pack.status_code == 410
            assert "record of this meeting" in pack.content.decode()
            minutes = client.get(
                reverse("meetings:minutes_pdf", args=[the_meeting.pk]) + query
            )
            assert minutes.status_code == 410
            assert "These minutes are no longer available" in minutes.content.decode()
        refusals = AuditEvent.objects.filter(
            action__in=[
                MeetingAction.PACK_DOWNLOAD_REFUSED,
                MeetingAction.MINUTES_DOWNLOAD_REFUSED,
            ]
        )
        assert refusals.count() == 4
        assert {e.detail["reason"] for e in refusals} == {"meeting_disposed"}
        assert {e.outcome for e in refusals} == {Outcome.DENIED}

    def test_the_meeting_page_says_the_record_is_destroyed(self, held):
        the_meeting = self._disposed(held)
        body = (
            verified_client_for(held["officer"])
            .get(the_meeting.get_absolute_url())
            .content.decode()
        )
        assert "This meeting&#x27;s record is destroyed" in body or (
            "This meeting's record is destroyed" in body
        )
        assert "Download your minutes (PDF)" not in body
        assert "Download your meeting pack (PDF)" not in body

    def test_nothing_can_be_recorded_again(self, held):
        the_meeting = self._disposed(held)
        with pytest.raises(MeetingRefused, match="destroyed"):
            attendance_record(
                meeting=the_meeting, organisation=held["police"], name="Late comer",
                status="present", confidentiality_confirmed=True, user=held["boss"],
            )  # fmt: skip

    def test_a_disposed_meeting_is_not_listed_as_late(self, held):
        the_meeting = held["meeting"]
        Meeting.objects.filter(pk=the_meeting.pk).update(
            status="held", minutes_issued_at=None
        )
        later = timezone.localdate() + timedelta(days=10)
        assert minutes_late(today=later).filter(pk=the_meeting.pk).exists()
        retention_apply(authorised_by=BY, today=_due(the_meeting))
        assert not minutes_late(today=later).filter(pk=the_meeting.pk).exists()

    def test_tombstones_cannot_be_changed(self, held):
        self._disposed(held)
        with pytest.raises(DatabaseError), transaction.atomic():
            MeetingTombstone.objects.update(authorised_by="someone else")

    def test_the_retention_page_shows_what_goes_next_and_what_went(self, held):
        client = verified_client_for(held["boss"])
        body = client.get("/referrals/retention/").content.decode()
        assert "No meeting record is due" in body
        Meeting.objects.filter(pk=held["meeting"].pk).update(
            starts_at=timezone.now() - timedelta(days=730 - 10)
        )
        body = client.get("/referrals/retention/").content.decode()
        assert "Meeting records to be destroyed within 30 days" in body
        assert ATTENDEE not in body
        retention_apply(authorised_by=BY, today=timezone.localdate() + timedelta(20))
        body = client.get("/referrals/retention/").content.decode()
        assert MeetingTombstone.objects.get().content_hash in body
        assert "Meeting records destroyed" in body


@pytest.mark.slow
class TestPacks:
    def test_packs_and_their_stored_files_go_and_are_not_rebuilt(
        self, held, django_capture_on_commit_callbacks
    ):
        the_meeting = held["meeting"]
        pack = pack_build(the_meeting, held["police"])
        storage = kind_for(MeetingPack, "file").storage
        assert storage.exists(pack.file.name)
        with django_capture_on_commit_callbacks(execute=True):
            retention_apply(authorised_by=BY, today=_due(the_meeting))
        assert not MeetingPack.objects.filter(meeting=the_meeting).exists()
        assert not storage.exists(pack.file.name)
        assert MeetingTombstone.objects.get().counts["meeting_packs"] == 1
        the_meeting.refresh_from_db()
        from meetings.services import packs_build

        assert packs_build(the_meeting) == []
