"""The demo meetings that seed_demo loads on top of the demo referrals."""

import io
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from meetings.models import (
    Action,
    ActionStatus,
    AgendaItem,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingPack,
    MeetingStatus,
    Rag,
)
from referrals.models import Referral

pytestmark = pytest.mark.django_db


def _counts():
    return tuple(
        model.objects.count()
        for model in (Meeting, AgendaItem, Attendance, Action, MeetingPack)
    )


@pytest.fixture
def seeded(demo_seeded_with_packs):
    return demo_seeded_with_packs


def _text(pack: MeetingPack) -> str:
    with pack.file.open("rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)


class TestDemoMeetings:
    def test_seeding_twice_creates_nothing_new(
        self, seeded, django_capture_on_commit_callbacks
    ):
        assert "Created 2 demo meetings" in seeded
        first = _counts()
        assert first[0] == 2

        out = StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", stdout=out)

        assert _counts() == first
        assert "Created 0 demo meetings" in out.getvalue()

    def test_json_output_stays_json(self, seeded):
        out = StringIO()
        call_command("seed_demo", "--json", stdout=out)
        assert "demo meetings" not in out.getvalue()

    def test_past_meeting_was_held_with_minutes(self, seeded):
        past = Meeting.objects.get(starts_at__lt=timezone.now())
        assert past.status == MeetingStatus.MINUTES_ISSUED
        assert past.minutes_issued_at and past.general_minutes
        items = list(past.agenda_items.prefetch_related("invited"))
        assert len(items) == 2
        for item in items:
            assert 3 <= item.invited.count() <= 5  # the referrer and 2 to 4 more
            assert item.discussion and item.risk_after and item.decisions
        statuses = set(past.attendance.values_list("status", flat=True))
        assert statuses == {AttendanceStatus.PRESENT, AttendanceStatus.APOLOGIES}
        assert not past.attendance.filter(
            status=AttendanceStatus.PRESENT, confidentiality_confirmed_at=None
        ).exists()

    def test_actions_are_done_overdue_and_open(self, seeded):
        actions = list(Action.objects.select_related("owner"))
        assert 3 <= len(actions) <= 4
        assert len({action.owner_id for action in actions}) == len(actions)
        rags = [action.rag() for action in actions]
        assert Rag.RED in rags and Rag.NONE in rags
        assert any(
            action.status == ActionStatus.OPEN and action.rag() != Rag.RED
            for action in actions
        )

    def test_upcoming_meeting_has_papers_issued(self, seeded):
        upcoming = Meeting.objects.get(starts_at__gt=timezone.now())
        past = Meeting.objects.get(starts_at__lt=timezone.now())
        assert upcoming.status == MeetingStatus.PAPERS_ISSUED
        references = set(
            upcoming.agenda_items.values_list("referral__number", flat=True)
        )
        carried = set(past.agenda_items.values_list("referral__number", flat=True))
        assert carried < references
        invited = upcoming.agenda_items.values_list("invited", flat=True).distinct()
        assert upcoming.packs.count() == len(set(invited))

    def test_each_agency_pack_holds_only_its_cases(self, seeded):
        upcoming = Meeting.objects.get(starts_at__gt=timezone.now())
        items = list(upcoming.agenda_items.prefetch_related("invited"))
        every = {item.referral.reference for item in items}
        for pack in upcoming.packs.select_related("organisation"):
            own = {
                item.referral.reference
                for item in items
                if pack.organisation in item.invited.all()
            }
            text = _text(pack)
            assert own, pack.organisation
            for reference in own:
                assert reference in text, (pack.organisation, reference)
            for reference in every - own:
                assert reference not in text, (pack.organisation, reference)

    def test_referrals_on_the_agendas_are_still_open(self, seeded):
        on_agenda = Referral.objects.filter(agenda_items__isnull=False).distinct()
        assert {r.status for r in on_agenda} == {"accepted"}
