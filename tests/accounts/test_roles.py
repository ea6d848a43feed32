"""A person's roles come with them on every request, in the same query."""

import pytest
from django.contrib.auth.models import Group

from accounts.backends import PartnerBackend
from accounts.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_roles_come_in_the_query_that_finds_the_person(
    django_assert_num_queries,
):
    person = UserFactory(roles=[Role.REFERRER, Role.COORDINATOR])
    # A name with a comma and spaces stays one role, not two.
    odd = Group.objects.create(name="Data, protection officers")
    person.groups.add(odd)
    with django_assert_num_queries(1):
        found = PartnerBackend().get_user(person.pk)
        assert found.role_names == {
            Role.REFERRER.value,
            Role.COORDINATOR.value,
            "Data, protection officers",
        }
        assert found.has_role(Role.COORDINATOR)


def test_a_person_without_groups_has_no_roles(django_assert_num_queries):
    person = UserFactory(roles=[])
    with django_assert_num_queries(1):
        assert PartnerBackend().get_user(person.pk).role_names == set()


def test_a_role_taken_away_is_gone_on_the_next_request():
    person = UserFactory(roles=[Role.REFERRER, Role.COORDINATOR])
    assert PartnerBackend().get_user(person.pk).has_role(Role.COORDINATOR)
    person.groups.remove(Group.objects.get(name=Role.COORDINATOR.value))
    assert not PartnerBackend().get_user(person.pk).has_role(Role.COORDINATOR)
