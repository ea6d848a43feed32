"""The home page shows each person what needs them, and nobody else's work,
from a fixed number of queries whatever the volume."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, role_group
from meetings.models import Action, MeetingStatus, Reply
from meetings.services import attendance_reply, confidentiality_confirm, papers_issue
from portal import freshness
from portal.dates import long_date
from referrals.models import Status
from referrals.services import draft_start, referral_transition
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import agreement_tree
from tests.factories.documents import shared, upload
from tests.factories.guidance import guidance
from tests.factories.meetings import accepted, meeting, on_agenda
from tests.factories.referrals import submitted_referral
from tests.shared_setup import read_again, rolled_back_after_module

pytestmark = pytest.mark.django_db


def _home(user) -> str:
    response = verified_client_for(user).get("/")
    assert response.status_code == 200
    return response.content.decode()


def _queries(user) -> int:
    client = verified_client_for(user)
    client.get("/")  # warm caches (site root paths, content types)
    freshness.outdate()  # count the queries behind the cached panels
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


def _more_work(world, n: int) -> None:
    """n more of every kind of item on the dashboards."""
    a_staff, coordinator = world["a_staff"], world["coordinator"]
    for _ in range(n):
        draft_start(user=a_staff)
        referral = submitted_referral(a_staff)
        referral_transition(
            referral=referral, to_status=Status.SCREENING, user=coordinator,
            expected_status=Status.SUBMITTED,
        )  # fmt: skip
        Action.objects.create(
            agenda_item=world["item"], referral=world["case"], owner=world["a"],
            officer="PC Example", description="Visit again.",
            due=timezone.localdate() - timedelta(days=2),
        )  # fmt: skip
        shared(world["b_staff"], [world["a"]], files=[upload("more.pdf")])
        guidance(title=f"Guide {_}", owner=world["editor"], review_in=-1,
                 reviewed_ago=200)  # fmt: skip


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """Made once for the module: about half a second of setup that most tests
    here need. Each test's own changes are rolled back after it."""
    with rolled_back_after_module(django_db_blocker):
        yield _world_made()


@pytest.fixture
def world(_world, db):
    return read_again(_world)


def _world_made():
    a, b = OrganisationFactory(name="Agency A"), OrganisationFactory(name="Agency B")
    coordinator = UserFactory(organisation=b, roles=[Role.COORDINATOR])
    a_staff = UserFactory(organisation=a, roles=[Role.REFERRER])
    b_staff = UserFactory(organisation=b, roles=[Role.REFERRER])
    editor = UserFactory(organisation=b, roles=[Role.EDITOR])
    draft_start(user=a_staff)
    asked = submitted_referral(a_staff)
    for to in (Status.SCREENING, Status.INFORMATION_REQUESTED):
        asked = referral_transition(
            referral=asked, to_status=to, user=coordinator,
            expected_status=asked.status, reason="What happened on 3 May?",
        )  # fmt: skip
    case = accepted(submitted_referral(a_staff), coordinator)
    upcoming = meeting(coordinator)
    item = on_agenda(upcoming, case, [b], coordinator)
    papers_issue(meeting=upcoming, user=coordinator)
    Action.objects.create(
        agenda_item=item, referral=case, owner=a, officer="PC Example",
        description="Visit the family with housing.",
        due=timezone.localdate() - timedelta(days=1),
    )  # fmt: skip
    shared(b_staff, [a], files=[upload("Patrol log.pdf")])
    return {
        "a": a, "b": b, "coordinator": coordinator, "a_staff": a_staff,
        "b_staff": b_staff, "editor": editor, "asked": asked, "case": case,
        "meeting": upcoming, "item": item,
    }  # fmt: skip


class TestAgencyStaff:
    def test_their_own_work_is_listed(self, world):
        html = _home(world["a_staff"])
        assert "Your draft referrals: 1" in html
        assert world["asked"].reference in html
        assert "The panel has asked for more information on 1 referral" in html
        assert "Your organisation&#x27;s open actions: 1, 1 overdue" in html
        # One sentence, not "housing., due": the action's own full stop goes.
        due = long_date(timezone.localdate() - timedelta(days=1))
        assert f"Visit the family with housing, due {due}" in html
        assert str(world["meeting"]) in html and "papers issued" in html
        assert "Files shared with your organisation: 1 not opened yet" in html
        assert "Patrol log.pdf" in html

    def test_another_agency_sees_none_of_it(self, world):
        html = _home(world["b_staff"])
        assert world["asked"].reference not in html
        assert "Your draft referrals" not in html
        assert "Visit the family with housing." not in html
        assert "Patrol log.pdf" not in html  # they sent it; nothing new for them
        assert "Screening queue" not in html
        # Invited to the case on the agenda, so the meeting is theirs too.
        assert str(world["meeting"]) in html

    def test_an_opened_file_is_no_longer_new(
        self, world, django_capture_on_commit_callbacks
    ):
        share = world["a"].shares_received.get().share
        colleague = UserFactory(organisation=world["a"], roles=[Role.REFERRER])
        assert "Patrol log.pdf" in _home(world["a_staff"])
        # The download outdates the "openings" token when it commits (at the
        # end of the block), as it does under a server (docs/caching.md).
        with django_capture_on_commit_callbacks(execute=True):
            response = verified_client_for(colleague).get(
                share.files.get().get_download_url()
            )
        assert response.status_code == 200
        assert "Patrol log.pdf" not in _home(world["a_staff"])


class TestCoordinators:
    def test_the_screening_queue_late_minutes_and_overdue_reviews(self, world):
        coordinator = world["coordinator"]
        waiting = submitted_referral(world["a_staff"], urgent=True)
        held = world["meeting"]
        held.status = MeetingStatus.HELD
        held.starts_at = timezone.now() - timedelta(days=12)
        held.save()
        world["item"].next_review = timezone.localdate() - timedelta(days=3)
        world["item"].save()
        html = _home(coordinator)
        assert "Screening queue: 1" in html
        assert waiting.reference in html and ">Urgent</strong>" in html
        assert "1 referral waiting for more information from the referrer" in html
        assert "Minutes not issued on time: 1" in html
        assert "Case reviews overdue: 1" in html
        assert world["case"].reference in html

    def test_the_meeting_cycle_lists_meetings_asks_and_overdue_actions(self, world):
        b_staff = world["b_staff"]
        attendance_reply(meeting=world["meeting"], user=b_staff, reply=Reply.ATTENDING)
        confidentiality_confirm(meeting=world["meeting"], user=b_staff)
        html = _home(world["coordinator"])
        cycle = html[html.index('id="meeting-cycle"') :]
        assert "Next meetings: 1" in cycle
        assert str(world["meeting"]) in cycle
        assert "papers issued; packs" in cycle
        assert "1 attending, 0 apologies, 1 confirmed confidentiality" in cycle
        assert "Waiting for more information from the referrer: 1" in cycle
        assert world["asked"].get_absolute_url() in cycle
        assert "Overdue actions across agencies: 1" in cycle
        assert "Agency A (PC Example)" in cycle

    def test_acknowledgement_coverage(self, world):
        agreement_tree(organisations=[world["a"], world["b"]])
        html = _home(world["coordinator"])
        assert "CMARAC ISA, version 1.0: 0% of signatory organisations" in html


class TestSignatoriesAndEditors:
    def test_a_signatory_sees_what_to_acknowledge_and_no_cases(self, world):
        agreement_tree(organisations=[world["a"]])
        signatory = UserFactory(organisation=world["a"], roles=[Role.SIGNATORY])
        html = _home(signatory)
        assert "Agreements to acknowledge" in html
        assert "CMARAC ISA, version 1.0" in html
        assert world["asked"].reference not in html
        assert "Your draft referrals" not in html

    def test_an_editor_sees_their_guidance_due_for_review(self, world):
        guidance(title="Keeping papers safe", owner=world["editor"], review_in=-2,
                 reviewed_ago=300)  # fmt: skip
        guidance(title="Someone else's", review_in=-2, reviewed_ago=300)
        html = _home(world["editor"])
        assert "Your guidance due for review: 1" in html
        assert "Keeping papers safe" in html
        assert "Someone else" not in html

    def test_nothing_to_do_says_so(self):
        html = _home(UserFactory(roles=[Role.SIGNATORY]))
        assert "Nothing needs you right now." in html


class TestQueryCounts:
    def test_queries_do_not_grow_with_the_data(self, world):
        # Each person's home page counted, then six more of every item made
        # once for all three (making them was most of this test's time).
        people = ("a_staff", "coordinator", "editor")
        before = {who: _queries(world[who]) for who in people}
        _more_work(world, 6)
        assert {who: _queries(world[who]) for who in people} == before

    def test_the_meeting_cycle_does_not_grow_with_meetings_or_replies(self, world):
        coordinator = world["coordinator"]
        before = _queries(coordinator)
        for days in (20, 30, 40):
            later = meeting(coordinator, days_ahead=days)
            on_agenda(later, world["case"], [world["a"], world["b"]], coordinator)
            for person in (world["a_staff"], world["b_staff"]):
                attendance_reply(meeting=later, user=person, reply=Reply.APOLOGIES)
                confidentiality_confirm(meeting=later, user=person)
        assert _queries(coordinator) == before


class TestCachedPanels:
    """The panels are cached per person; a change anywhere shows at once."""

    def test_a_new_referral_reaches_the_screening_queue_at_once(self, world):
        coordinator = world["coordinator"]
        assert "Screening queue: 0" in _home(coordinator)
        waiting = submitted_referral(world["a_staff"])
        html = _home(coordinator)
        assert "Screening queue: 1" in html and waiting.reference in html

    def test_an_acted_on_referral_leaves_the_queue_at_once(self, world):
        coordinator = world["coordinator"]
        waiting = submitted_referral(world["a_staff"])
        assert waiting.reference in _home(coordinator)
        accepted(waiting, coordinator)
        assert "Screening queue: 0" in _home(coordinator)

    def test_nobody_is_served_another_persons_panels(self, world):
        colleague = UserFactory(organisation=world["a"], roles=[Role.REFERRER])
        assert "Your draft referrals: 1" in _home(world["a_staff"])
        html = _home(colleague)  # same agency, straight after: drafts are personal
        assert "Your draft referrals" not in html
        assert world["asked"].reference in html  # the agency's referrals are shared
        assert world["asked"].reference not in _home(world["b_staff"])

    def test_a_new_role_shows_its_panels_at_once(self, world):
        staff = world["a_staff"]
        assert "Screening queue" not in _home(staff)
        staff.groups.add(role_group(Role.COORDINATOR))
        assert "Screening queue" in _home(staff)
        staff.groups.remove(role_group(Role.COORDINATOR))
        assert "Screening queue" not in _home(staff)

    def test_a_deactivated_account_is_not_served_from_the_cache(self, world):
        staff = world["a_staff"]
        client = verified_client_for(staff)
        assert client.get("/").status_code == 200
        staff.is_active = False
        staff.save()
        response = client.get("/")
        assert response.status_code == 302
        assert world["asked"].reference not in response.content.decode()


class TestCaseMaterialClosed:
    """The home page follows the agreement's rule: with case material closed
    it lists none of it and says why (docs/features.md, "Agreements")."""

    def test_a_late_organisation_sees_no_case_material_and_why(self, world, settings):
        _, isa, _, _ = agreement_tree(organisations=[world["a"], world["b"]])
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        html = _home(world["a_staff"])
        assert world["asked"].reference not in html
        assert "Visit the family with housing" not in html
        assert "Patrol log.pdf" not in html
        assert str(world["meeting"]) not in html
        assert "Case material is closed to you" in html
        assert "has not acknowledged version 1.0 of CMARAC ISA" in html
        assert f'href="{isa.url}"' in html
        # No menu links into the case routes that would refuse them.
        assert 'href="/referrals/"' not in html
        assert 'href="/files/"' not in html

    def test_an_organisation_outside_the_isa_sees_none_and_why(self, world):
        agreement_tree(organisations=[world["b"]])
        html = _home(world["a_staff"])
        assert world["asked"].reference not in html
        assert "Visit the family with housing" not in html
        assert "is not a party to the current version of CMARAC ISA" in html
