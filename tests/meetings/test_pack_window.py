"""Meeting packs close for agencies ``PACK_DOWNLOAD_DAYS_AFTER_MINUTES`` days
after the minutes are issued: the meeting page says so, the download link
answers 410 with the reason, and the refusal is audited. Coordinators keep
theirs.

Time travel: the minutes' issue time is moved back, so "now" falls the day
before or the day after the pack closes.
"""

from datetime import timedelta

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent, Outcome
from meetings.audit_actions import MeetingAction
from meetings.models import Meeting
from meetings.services import (
    PackClosed,
    meeting_mark_held,
    minutes_issue,
    pack_closed_for,
    pack_download,
    papers_issue,
)
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
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued():
    """A held meeting whose minutes are issued: one Housing case, Police
    invited."""
    boss = coordinator()
    police, housing = (
        OrganisationFactory(name="Police"),
        OrganisationFactory(name="Housing"),
    )
    referrer = UserFactory(organisation=housing, roles=[Role.REFERRER])
    upcoming = meeting(boss, days_ahead=1)
    on_agenda(upcoming, accepted(submitted_referral(referrer), boss), [police], boss)
    papers_issue(meeting=upcoming, user=boss)
    started(upcoming)
    meeting_mark_held(meeting=upcoming, user=boss)
    minutes_issue(meeting=upcoming, user=boss)
    # The packs' background build has run (the download builds the pack).
    Meeting.objects.filter(pk=upcoming.pk).update(
        packs_built_version=F("packs_version")
    )
    upcoming.refresh_from_db()
    officer = UserFactory(organisation=police, roles=[Role.REFERRER])
    return {"boss": boss, "meeting": upcoming, "police": police,
            "officer": officer}  # fmt: skip


def _minutes_issued_days_ago(meeting_, days: float) -> Meeting:
    Meeting.objects.filter(pk=meeting_.pk).update(
        minutes_issued_at=timezone.now() - timedelta(days=days)
    )
    meeting_.refresh_from_db()
    return meeting_


def _pack_url(meeting_, organisation=None) -> str:
    url = reverse("meetings:pack", args=[meeting_.pk])
    return f"{url}?organisation={organisation.slug}" if organisation else url


class TestPackWindow:
    def test_open_until_the_day_it_closes(self, issued, settings):
        settings.PACK_DOWNLOAD_DAYS_AFTER_MINUTES = 14
        day_before = _minutes_issued_days_ago(issued["meeting"], 13)
        assert pack_closed_for(day_before, issued["officer"]) is None
        page = verified_client_for(issued["officer"]).get(day_before.get_absolute_url())
        body = page.content.decode()
        assert "Download your meeting pack (PDF)" in body
        assert "You can download it until" in body
        assert "pack is closed" not in body

    def test_closed_the_day_after_page_says_why_and_link_refuses(
        self, issued, settings
    ):
        settings.PACK_DOWNLOAD_DAYS_AFTER_MINUTES = 14
        day_after = _minutes_issued_days_ago(issued["meeting"], 15)
        client = verified_client_for(issued["officer"])
        body = client.get(day_after.get_absolute_url()).content.decode()
        assert "Your meeting pack is closed" in body
        assert "govuk-inset-text" in body
        assert "14 days after the minutes were issued" in body
        assert "Download your meeting pack (PDF)" not in body

        refused = client.get(_pack_url(day_after))
        assert refused.status_code == 410
        text = refused.content.decode()
        assert "This meeting pack is closed" in text
        assert "14 days after the minutes were issued" in text
        event = AuditEvent.objects.get(action=MeetingAction.PACK_DOWNLOAD_REFUSED)
        assert event.outcome == Outcome.DENIED
        assert event.actor == issued["officer"]
        assert event.detail == {
            "meeting": day_after.pk,
            "organisation": issued["police"].pk,
            "reason": "pack_closed",
        }
        assert not AuditEvent.objects.filter(
            action=MeetingAction.PACK_DOWNLOADED
        ).exists()

    def test_the_setting_decides_the_window(self, issued, settings):
        settings.PACK_DOWNLOAD_DAYS_AFTER_MINUTES = 30
        meeting_ = _minutes_issued_days_ago(issued["meeting"], 15)
        assert pack_closed_for(meeting_, issued["officer"]) is None
        settings.PACK_DOWNLOAD_DAYS_AFTER_MINUTES = 7
        assert isinstance(pack_closed_for(meeting_, issued["officer"]), PackClosed)

    def test_no_window_before_the_minutes_are_issued(self, db):
        boss = coordinator()
        upcoming = meeting(boss)
        assert upcoming.pack_closes_at is None
        assert not upcoming.pack_closed()

    def test_the_service_refuses_agencies_too(self, issued):
        day_after = _minutes_issued_days_ago(issued["meeting"], 15)
        with pytest.raises(PackClosed, match="Destroy any copy"):
            pack_download(
                meeting=day_after,
                organisation=issued["police"],
                user=issued["officer"],
            )

    def test_coordinators_page_says_when_agencies_lost_access(self, issued):
        day_after = _minutes_issued_days_ago(issued["meeting"], 15)
        assert pack_closed_for(day_after, issued["boss"]) is None
        body = (
            verified_client_for(issued["boss"])
            .get(day_after.get_absolute_url())
            .content.decode()
        )
        assert "Agencies&#x27; packs closed on" in body or (
            "Agencies' packs closed on" in body
        )


@pytest.mark.slow
class TestCoordinatorsKeepTheirPacks:
    def test_a_coordinator_downloads_after_agencies_are_closed_out(self, issued):
        day_after = _minutes_issued_days_ago(issued["meeting"], 15)
        confirmed(day_after, issued["boss"])
        response = verified_client_for(issued["boss"]).get(
            _pack_url(day_after, issued["police"])
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert AuditEvent.objects.filter(action=MeetingAction.PACK_DOWNLOADED).exists()

    def test_an_agency_downloads_the_day_before(self, issued):
        day_before = _minutes_issued_days_ago(issued["meeting"], 13)
        confirmed(day_before, issued["officer"])
        response = verified_client_for(issued["officer"]).get(_pack_url(day_before))
        assert response.status_code == 200
        b"".join(response.streaming_content)
