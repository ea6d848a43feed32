"""One page of the referrals list is rendered once and shared by everyone
with the same roles and organisation; every view is still audited and a new
referral shows at once."""

import pytest

from accounts.models import Role, User, role_group
from audit.models import AuditEvent
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    a, b = OrganisationFactory(name="Agency A"), OrganisationFactory(name="Agency B")
    return {
        "a_staff": UserFactory(organisation=a, roles=[Role.REFERRER]),
        "b_staff": UserFactory(organisation=b, roles=[Role.REFERRER]),
        "coordinator": UserFactory(organisation=b, roles=[Role.COORDINATOR]),
        "second_coordinator": UserFactory(organisation=b, roles=[Role.COORDINATOR]),
    }


def _list(user) -> str:
    response = verified_client_for(user).get("/referrals/")
    assert response.status_code == 200
    return response.text


def test_a_new_referral_is_listed_at_once(world):
    first = submitted_referral(world["a_staff"])
    assert first.reference in _list(world["coordinator"])
    second = submitted_referral(world["a_staff"])
    html = _list(world["second_coordinator"])
    assert first.reference in html and second.reference in html


def test_another_organisation_is_not_served_the_coordinators_list(world):
    referral = submitted_referral(world["a_staff"])
    assert referral.reference in _list(world["coordinator"])  # same agency, B
    assert referral.reference not in _list(world["b_staff"])
    assert referral.reference in _list(world["a_staff"])


def test_every_view_is_audited_even_from_the_shared_page(world):
    submitted_referral(world["a_staff"])
    _list(world["coordinator"])
    _list(world["second_coordinator"])
    viewed = AuditEvent.objects.filter(action="referral.list_viewed")
    assert sorted(viewed.values_list("actor_id", flat=True)) == sorted(
        [world["coordinator"].pk, world["second_coordinator"].pk]
    )
    assert all(event.detail == {"page": 1, "count": 1} for event in viewed)


def test_a_role_change_shows_at_once(world):
    """A coordinator made a referrer is not served the coordinator's list, and
    back again; also when the change is a bulk write that sends no signal."""
    referral = submitted_referral(world["a_staff"])  # agency A's, not shared
    coordinator = world["coordinator"]  # at agency B
    assert referral.reference in _list(coordinator)
    coordinator.groups.set([role_group(Role.REFERRER)])
    assert referral.reference not in _list(coordinator)
    coordinator.groups.set([role_group(Role.COORDINATOR)])
    assert referral.reference in _list(coordinator)
    User.groups.through.objects.filter(user=coordinator).update(
        group=role_group(Role.REFERRER)
    )
    assert referral.reference not in _list(coordinator)
