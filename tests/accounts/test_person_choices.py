"""People picked in Wagtail's admin are shown with their organisation, so two
people with the same name can be told apart."""

import re

import pytest

from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import agreement_tree

pytestmark = pytest.mark.django_db

OPTION = re.compile(r'<option value="(\d+)"[^>]*>([^<]*)</option>')


def test_namesakes_in_a_picker_show_their_organisations():
    police = OrganisationFactory(name="Police")
    fire = OrganisationFactory(name="Fire")
    one = UserFactory(first_name="Sam", last_name="Patel", organisation=police)
    two = UserFactory(first_name="Sam", last_name="Patel", organisation=fire)
    admin = UserFactory(organisation=None, is_superuser=True, is_staff=True)
    _, isa, _, _ = agreement_tree()

    page = verified_client_for(admin).get(f"/admin/pages/{isa.pk}/edit/")
    assert page.status_code == 200
    select = re.search(
        r'<select name="responsible_officer".*?</select>', page.content.decode(), re.S
    ).group(0)
    labels = dict(OPTION.findall(select))
    assert labels[str(one.pk)] == "Sam Patel (Police)"
    assert labels[str(two.pk)] == "Sam Patel (Fire)"
    assert labels[str(admin.pk)].endswith("(Administrator)")
