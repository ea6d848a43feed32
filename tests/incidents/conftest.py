import pytest
from django.contrib.auth.models import Group

from incidents.people import DPO_GROUP
from tests.factories import UserFactory


@pytest.fixture
def coordinator(db):
    return UserFactory(roles=["Coordinators"])


@pytest.fixture
def dpo(db):
    """The data protection officer, by the group ``incidents.people`` names."""
    person = UserFactory()
    person.groups.add(Group.objects.get_or_create(name=DPO_GROUP)[0])
    return person


@pytest.fixture
def reporter(db):
    return UserFactory(roles=["Referrers"])
