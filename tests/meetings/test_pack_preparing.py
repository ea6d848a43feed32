"""The meeting page says when a pack is being prepared, and never offers a
pack built before the latest change as current."""

import pytest

from accounts.models import Role
from meetings.models import Meeting, MeetingPack
from meetings.services import agenda_item_move, packs_build, papers_issue
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import (
    accepted,
    confirmed,
    coordinator,
    meeting,
    on_agenda,
)
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db

PREPARING = "Your pack is being prepared. Refresh this page in a minute."
DOWNLOAD = "Download your meeting pack (PDF)"
PACKS_PREPARING = "The packs are being prepared after the latest change."
FAILED = "Your pack could not be prepared."
PACKS_FAILED = "The meeting packs could not be prepared after the latest change."


@pytest.fixture
def world():
    boss = coordinator()
    police = OrganisationFactory(name="Police")
    officer = UserFactory(organisation=police, roles=[Role.REFERRER])
    upcoming = meeting(boss)
    for _ in range(2):
        on_agenda(upcoming, accepted(submitted_referral(), boss), [police], boss)
    confirmed(upcoming, officer)
    return {"boss": boss, "police": police, "officer": officer, "meeting": upcoming}


def _built(meeting_, organisation) -> MeetingPack:
    """What a finished build leaves, without rendering: a pack for the
    meeting as it is now, and the build marked done."""
    meeting_.refresh_from_db()
    Meeting.objects.filter(pk=meeting_.pk).update(
        packs_built_version=meeting_.packs_version
    )
    return MeetingPack.objects.update_or_create(
        meeting=meeting_,
        organisation=organisation,
        defaults={"file": "meeting-packs/built.pdf", "source_hash": "x", "pages": 9,
                  "build_seconds": 1.0, "meeting_version": meeting_.packs_version},
    )[0]  # fmt: skip


def _page(client, meeting_) -> str:
    response = client.get(meeting_.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


class TestAgencyPage:
    def test_issued_papers_say_the_pack_is_being_prepared_until_it_is_built(
        self, world
    ):
        # The build is queued when the issue commits; it has not run yet.
        papers_issue(meeting=world["meeting"], user=world["boss"])
        client = verified_client_for(world["officer"])
        page = _page(client, world["meeting"])
        assert PREPARING in page
        assert DOWNLOAD not in page
        _built(world["meeting"], world["police"])
        page = _page(client, world["meeting"])
        assert PREPARING not in page
        assert DOWNLOAD in page

    def test_an_agenda_change_hides_the_old_pack_until_it_is_rebuilt(self, world):
        papers_issue(meeting=world["meeting"], user=world["boss"])
        _built(world["meeting"], world["police"])
        item = world["meeting"].agenda_items.order_by("position").first()
        agenda_item_move(item=item, offset=1, user=world["boss"])
        client = verified_client_for(world["officer"])
        page = _page(client, world["meeting"])
        assert PREPARING in page
        assert DOWNLOAD not in page

    def test_a_pack_older_than_the_agenda_is_not_offered(self, world):
        papers_issue(meeting=world["meeting"], user=world["boss"])
        pack = _built(world["meeting"], world["police"])
        # The last build finished, but this pack came from an earlier one.
        MeetingPack.objects.filter(pk=pack.pk).update(
            meeting_version=pack.meeting_version - 1
        )
        page = _page(verified_client_for(world["officer"]), world["meeting"])
        assert PREPARING in page
        assert DOWNLOAD not in page


class TestFailedBuild:
    def test_the_pages_say_the_pack_could_not_be_prepared_until_a_build_works(
        self, world
    ):
        papers_issue(meeting=world["meeting"], user=world["boss"])
        _built(world["meeting"], world["police"])
        item = world["meeting"].agenda_items.order_by("position").first()
        agenda_item_move(item=item, offset=1, user=world["boss"])
        # What packs_build leaves when a render fails (test_pack_sections).
        world["meeting"].refresh_from_db()
        Meeting.objects.filter(pk=world["meeting"].pk).update(
            packs_failed_version=world["meeting"].packs_version
        )
        officer = verified_client_for(world["officer"])
        boss = verified_client_for(world["boss"])
        page = _page(officer, world["meeting"])
        assert FAILED in page
        assert PREPARING not in page
        assert DOWNLOAD not in page
        assert PACKS_FAILED in _page(boss, world["meeting"])
        # Another change queues another build: being prepared again.
        agenda_item_move(item=item, offset=-1, user=world["boss"])
        page = _page(officer, world["meeting"])
        assert FAILED not in page
        assert PREPARING in page
        assert PACKS_FAILED not in _page(boss, world["meeting"])
        _built(world["meeting"], world["police"])
        page = _page(officer, world["meeting"])
        assert FAILED not in page
        assert DOWNLOAD in page


class TestCoordinatorPage:
    def test_the_packs_table_marks_packs_being_prepared_without_a_link(self, world):
        papers_issue(meeting=world["meeting"], user=world["boss"])
        _built(world["meeting"], world["police"])
        client = verified_client_for(world["boss"])
        page = _page(client, world["meeting"])
        assert PACKS_PREPARING not in page
        link = f"?organisation={world['police'].slug}"
        assert link in page
        item = world["meeting"].agenda_items.order_by("position").first()
        agenda_item_move(item=item, offset=1, user=world["boss"])
        page = _page(client, world["meeting"])
        assert PACKS_PREPARING in page
        assert "Being prepared again" in page
        assert link not in page


@pytest.mark.slow
def test_the_background_build_makes_the_pack_current_again(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        papers_issue(meeting=world["meeting"], user=world["boss"])
    client = verified_client_for(world["officer"])
    assert DOWNLOAD in _page(client, world["meeting"])
    item = world["meeting"].agenda_items.order_by("position").first()
    # The change commits; its build is queued but has not run.
    agenda_item_move(item=item, offset=1, user=world["boss"])
    assert PREPARING in _page(client, world["meeting"])
    packs_build(world["meeting"])
    page = _page(client, world["meeting"])
    assert PREPARING not in page
    assert DOWNLOAD in page
