"""Integer lookups with values no row can hold find nothing (portal.lookups).

Wagtail's choosers and admin list filters look ids from the address up as
they come, so these were 500s: text on both databases, a number past 64 bits
on SQLite.
"""

import pytest

from accounts.models import Organisation
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

HUGE = "9" * 20


@pytest.fixture
def organisation():
    return OrganisationFactory()


@pytest.mark.parametrize("value", ["x", "", "1.5", "9" * 10_000])
def test_text_that_is_not_a_whole_number_matches_no_id(organisation, value):
    assert not Organisation.objects.filter(pk=value).exists()
    assert Organisation.objects.exclude(pk=value).count() == 1


def test_in_keeps_the_ids_that_can_match(organisation):
    ids = ["x", str(organisation.pk), HUGE, "9" * 10_000, int(HUGE)]
    assert list(Organisation.objects.filter(pk__in=ids)) == [organisation]
    assert not Organisation.objects.filter(pk__in=["x", HUGE]).exists()


def test_whole_numbers_as_text_still_match(organisation):
    assert Organisation.objects.get(pk=str(organisation.pk)) == organisation
    assert Organisation.objects.filter(pk=f" {organisation.pk} ").exists()


def test_a_mistake_in_code_still_fails_loudly(organisation):
    with pytest.raises(TypeError):
        Organisation.objects.filter(pk=object()).exists()
    with pytest.raises(TypeError):
        Organisation.objects.filter(pk__in=[object()]).exists()
