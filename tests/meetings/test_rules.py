"""What may happen to a meeting at each stage comes from one table
(``meetings.models.MEETING_RULES``): the pages offer only what the services
accept, and a direct post of anything else is refused in plain words."""

import pytest
from django.urls import reverse

from accounts.models import Role
from meetings.models import AgendaItem, MeetingStatus
from meetings.services import (
    MeetingRefused,
    agenda_item_invite,
    meeting_mark_held,
    minutes_issue,
    papers_issue,
)
from referrals.models import ReferralShare
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import (
    accepted,
    coordinator,
    meeting,
    on_agenda,
    started,
)
from tests.factories.referrals import submitted_referral
from tests.shared_setup import read_again, rolled_back_after_module

pytestmark = pytest.mark.django_db

INVITE_LINK = "Change who is invited"


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """Made once for the module (tests/shared_setup.py); each test's own
    changes are rolled back after it."""
    with rolled_back_after_module(django_db_blocker):
        yield _world_made()


@pytest.fixture
def world(_world, db):
    world = read_again(_world)
    # A client of its own: a session is per test, like the rows.
    world["client"] = verified_client_for(world["boss"])
    return world


def _world_made():
    """Papers issued for a meeting tomorrow: a Housing case with Police
    invited; another accepted Housing case waits for a meeting."""
    boss = coordinator()
    police, housing, fire = (OrganisationFactory(name=n) for n in
                             ("Police", "Housing", "Fire"))  # fmt: skip
    referrer = UserFactory(organisation=housing, roles=[Role.REFERRER])
    upcoming = meeting(boss, days_ahead=1)
    item = on_agenda(upcoming, accepted(submitted_referral(referrer), boss),
                     [police], boss)  # fmt: skip
    waiting = accepted(submitted_referral(referrer), boss)
    papers_issue(meeting=upcoming, user=boss)
    upcoming.refresh_from_db()
    return {"boss": boss, "client": verified_client_for(boss), "meeting": upcoming,
            "item": item, "waiting": waiting, "police": police, "fire": fire,
            "housing": housing}  # fmt: skip


def _held(world):
    started(world["meeting"])
    return meeting_mark_held(meeting=world["meeting"], user=world["boss"])


def _minutes_issued(world):
    _held(world)
    return minutes_issue(meeting=world["meeting"], user=world["boss"])


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _invited(item) -> set:
    return set(item.invited.values_list("name", flat=True))


class TestInvitationsAfterMinutes:
    """Who is invited decides who downloads the minutes: final once issued."""

    def test_the_service_refuses_in_plain_words(self, world):
        _minutes_issued(world)
        with pytest.raises(MeetingRefused, match="minutes of this meeting are issued"):
            agenda_item_invite(
                item=world["item"], invited=[world["fire"]], user=world["boss"]
            )
        assert _invited(world["item"]) == {"Housing", "Police"}
        assert not ReferralShare.objects.filter(organisation=world["fire"]).exists()

    def test_the_page_does_not_offer_it_and_a_direct_post_is_refused(self, world):
        client, item = world["client"], world["item"]
        detail = reverse("meetings:detail", args=[world["meeting"].pk])
        invite = reverse("meetings:agenda_invite", args=[world["meeting"].pk, item.pk])
        assert INVITE_LINK in _page(client, detail)  # still open while held
        _minutes_issued(world)
        assert INVITE_LINK not in _page(client, detail)
        page = _page(client, invite)
        assert 'name="invited"' not in page
        assert "so who is invited to its cases is final" in page
        response = client.post(invite, {"invited": [world["fire"].pk]})
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert "so who is invited to its cases is final" in page
        assert _invited(item) == {"Housing", "Police"}
        # Fire cannot download the minutes it was never invited to.
        fire = verified_client_for(
            UserFactory(organisation=world["fire"], roles=[Role.REFERRER])
        )
        minutes = reverse("meetings:minutes_pdf", args=[world["meeting"].pk])
        assert fire.get(minutes).status_code == 404

    def test_invitations_still_change_while_the_meeting_is_held(self, world):
        _held(world)
        agenda_item_invite(
            item=world["item"], invited=[world["fire"]], user=world["boss"]
        )
        assert _invited(world["item"]) == {"Housing", "Fire"}


class TestAddingACase:
    def test_a_held_meeting_offers_no_form_and_refuses_a_post(self, world):
        client, upcoming = world["client"], world["meeting"]
        detail = reverse("meetings:detail", args=[upcoming.pk])
        assert "Add to the agenda" in _page(client, detail)
        _held(world)
        page = _page(client, detail)
        assert "Add to the agenda" not in page
        assert "Move up" not in page and "Remove<" not in page
        assert "The agenda of a meeting that has been held is final." in page
        response = client.post(
            reverse("meetings:agenda_add", args=[upcoming.pk]),
            {"referral": world["waiting"].reference, "slot_minutes": "15"},
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert 'href="#agenda"' in page
        assert "The agenda of a meeting that has been held is final." in page
        assert AgendaItem.objects.filter(meeting=upcoming).count() == 1

    def test_removing_a_case_from_a_held_meeting_is_refused(self, world):
        _held(world)
        response = world["client"].post(
            reverse(
                "meetings:agenda_remove",
                args=[world["meeting"].pk, world["item"].pk],
            ),
        )
        assert response.status_code == 400
        assert "is final" in response.content.decode()
        assert AgendaItem.objects.filter(pk=world["item"].pk).exists()


class TestMarkingHeld:
    def test_not_before_the_meeting_starts(self, world):
        client, upcoming = world["client"], world["meeting"]
        record = reverse("meetings:record", args=[upcoming.pk])
        page = _page(client, record)
        assert "Mark the meeting as held" not in page
        assert "it can be marked as held once it has started" in page
        response = client.post(reverse("meetings:record_held", args=[upcoming.pk]))
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert "it can be marked as held once it has started" in page
        with pytest.raises(MeetingRefused, match="once it has started"):
            meeting_mark_held(meeting=upcoming, user=world["boss"])
        upcoming.refresh_from_db()
        assert upcoming.status == MeetingStatus.PAPERS_ISSUED

    def test_once_started_the_page_offers_it_and_the_post_works(self, world):
        client, upcoming = world["client"], world["meeting"]
        started(upcoming)
        assert "Mark the meeting as held" in _page(
            client, reverse("meetings:record", args=[upcoming.pk])
        )
        response = client.post(reverse("meetings:record_held", args=[upcoming.pk]))
        assert response.status_code == 302
        upcoming.refresh_from_db()
        assert upcoming.status == MeetingStatus.HELD


class TestIssuingMinutes:
    def test_the_issue_button_appears_only_once_held(self, world):
        client, upcoming = world["client"], world["meeting"]
        minutes = reverse("meetings:minutes", args=[upcoming.pk])
        assert 'name="issue"' not in _page(client, minutes)
        _held(world)
        assert 'name="issue"' in _page(client, minutes)


class TestIssuingPapers:
    def test_a_second_issue_is_not_offered(self, world):
        page = _page(
            world["client"], reverse("meetings:issue", args=[world["meeting"].pk])
        )
        assert "<button" not in page.split("<main", 1)[1].split("</main>", 1)[0]
        assert "Papers can be issued only once" in page


@pytest.mark.parametrize("status", [s.value for s in MeetingStatus])
def test_pages_offer_exactly_what_the_rules_allow(world, status):
    """Each page's offer, at each status, follows ``Meeting.allows``."""
    upcoming = world["meeting"]
    started(upcoming)
    type(upcoming).objects.filter(pk=upcoming.pk).update(status=status)
    upcoming.refresh_from_db()
    allows = upcoming.allows
    client, pk = world["client"], upcoming.pk
    detail = _page(client, reverse("meetings:detail", args=[pk]))
    record = _page(client, reverse("meetings:record", args=[pk]))
    minutes = _page(client, reverse("meetings:minutes", args=[pk]))
    offered = {
        "change_agenda": "Add to the agenda" in detail,
        "change_invitations": INVITE_LINK in detail,
        "issue_papers": reverse("meetings:issue", args=[pk]) in detail,
        "record": "Save to the register" in record,
        "mark_held": "Mark the meeting as held" in record,
        "issue_minutes": 'name="issue"' in minutes,
    }
    assert offered == {step: allows[step] for step in offered}
