"""One page of the shared-files list is built once and shared by everyone
with the same roles and organisation. What users notice must still be
current: a file opened by a colleague stops being "New", a recall shows at
once, another agency never gets the page, and every view is audited."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User, role_group
from audit.models import AuditEvent
from documents.services import share_recall
from tests.conftest import verified_client_for
from tests.factories import UserFactory, three_agencies
from tests.factories.documents import shared, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    people = three_agencies()
    b = people[("B", "Referrer")].organisation
    people["B2"] = UserFactory(organisation=b, roles=[Role.REFERRER])
    share = shared(people[("A", "Referrer")], [b], files=[upload("Plan – Flat 3.pdf")])
    return {"people": people, "share": share}


def _list(user, query="") -> str:
    response = verified_client_for(user).get(f"/files/{query}")
    assert response.status_code == 200
    return response.text


def test_a_file_opened_by_a_colleague_is_no_longer_new(
    world, django_capture_on_commit_callbacks
):
    people, share = world["people"], world["share"]
    html = _list(people["B2"])
    assert "Plan – Flat 3.pdf" in html and ">New<" in html
    assert "1 file shared with your organisation has not been opened" in html

    download = reverse(
        "documents:download",
        kwargs={
            "share_id": share.public_id,
            "file_id": share.files.get().public_id,
        },
    )
    # The download outdates the "openings" token when it commits (here, at
    # the end of the block), as it does under a server.
    with django_capture_on_commit_callbacks(execute=True):
        response = verified_client_for(people[("B", "Referrer")]).get(download)
    assert response.status_code == 200
    b"".join(response.streaming_content)

    html = _list(people["B2"])
    assert "Plan – Flat 3.pdf" in html
    assert ">New<" not in html
    assert "not been opened" not in html


def test_a_recall_shows_at_once(world):
    people, share = world["people"], world["share"]
    assert "Available" in _list(people[("B", "Referrer")])
    share_recall(share=share, user=people[("A", "Referrer")], reason="Sent in error")
    assert "Recalled" in _list(people["B2"])


def test_another_agency_is_never_served_the_page(world):
    people = world["people"]
    assert "Plan – Flat 3.pdf" in _list(people[("B", "Referrer")])
    assert "Plan – Flat 3.pdf" not in _list(people[("C", "Referrer")])
    assert "Plan – Flat 3.pdf" not in _list(people[("C", "Referrer")], "?show=sent")
    assert "Plan – Flat 3.pdf" in _list(people[("A", "Referrer")], "?show=sent")
    # The coordinator's "All shares" tab is only the coordinator's.
    assert "Plan – Flat 3.pdf" in _list(people[("C", "Coordinator")], "?show=all")
    assert "All shares" not in _list(people[("C", "Referrer")], "?show=all")


def test_an_expired_share_is_not_shown_as_available_from_an_old_page(world):
    people, share = world["people"], world["share"]
    assert "Available" in _list(people[("B", "Referrer")])
    share.expires_at = timezone.now() - timedelta(seconds=1)
    share.created_at = share.expires_at - timedelta(days=1)
    share.save()
    html = _list(people["B2"])
    assert "Expired" in html and "Available" not in html


def test_every_view_is_audited_even_from_the_shared_page(world):
    people = world["people"]
    _list(people[("B", "Referrer")])
    _list(people["B2"])
    viewed = AuditEvent.objects.filter(action="document.list_viewed")
    assert sorted(viewed.values_list("actor_id", flat=True)) == sorted(
        [people[("B", "Referrer")].pk, people["B2"].pk]
    )
    assert all(
        event.detail == {"show": "received", "page": 1, "count": 1} for event in viewed
    )


def test_a_role_change_shows_at_once(world):
    """A coordinator made a referrer loses "All shares" and the other
    agencies' files at once, and a referrer made a coordinator gains them;
    also when the change is a bulk write that sends no signal."""
    people = world["people"]
    coordinator, referrer = people[("C", "Coordinator")], people[("C", "Referrer")]
    assert "Plan – Flat 3.pdf" in _list(coordinator, "?show=all")
    coordinator.groups.set([role_group(Role.REFERRER)])
    html = _list(coordinator, "?show=all")
    assert "All shares" not in html and "Plan – Flat 3.pdf" not in html
    assert "Plan – Flat 3.pdf" not in _list(referrer, "?show=all")
    referrer.groups.add(role_group(Role.COORDINATOR))
    assert "Plan – Flat 3.pdf" in _list(referrer, "?show=all")
    # A bulk write sends no signal; the list follows the roles all the same.
    User.groups.through.objects.filter(
        user=referrer, group=role_group(Role.COORDINATOR)
    ).update(group=role_group(Role.SIGNATORY))
    assert "Plan – Flat 3.pdf" not in _list(referrer, "?show=all")
