"""The demo's data protection officer finds a demo person everywhere they are
held, and seed_demo says how long the index took to build."""

import re

import pytest

from accounts.models import User
from rights.matching import query_read
from rights.models import PersonMention
from rights.selectors import person_search
from tests.conftest import verified_client_for

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_the_index_and_says_how_long(demo_seeded):
    printed = re.search(
        r"Indexed (\d+) mentions of people in (\d+) records in ([\d.]+)s", demo_seeded
    )
    assert printed, demo_seeded
    assert int(printed.group(1)) == PersonMention.objects.count() > 0


def test_the_demo_officer_finds_a_demo_person(demo_seeded):
    officer = User.objects.get(username="dpo")
    assert officer.is_data_protection_officer
    assert not officer.works_on_cases
    found = person_search(officer, query_read("Margaret Demoford"))
    assert found.groups, "a demo person is found"
    assert all(group.title.startswith("Case ") for group in found.groups)
    page = verified_client_for(officer).get("/rights/people/?q=M+Demoford")
    assert page.status_code == 200
    assert found.groups[0].title in page.content.decode()
