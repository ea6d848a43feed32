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


def test_the_demo_has_a_subject_access_request_in_progress(demo_seeded):
    from rights.models import SarStatus, SubjectAccessRequest

    sar = SubjectAccessRequest.objects.get(requester_name="Margaret Demoford")
    assert sar.status == SarStatus.REVIEWING
    items = list(sar.items.all())
    reviewed = [item for item in items if item.is_reviewed]
    assert 0 < len(reviewed) <= len(items)  # the demo person has few records
    assert f"Subject access request {sar.reference} in progress" in demo_seeded


@pytest.mark.slow
def test_a_bundle_for_the_demo_person_once_every_item_is_reviewed(demo_seeded):
    """The figure docs/benchmarks.md quotes: the time to build the bundle."""
    from rights.models import ItemDecision, SubjectAccessRequest
    from rights.sar import sar_bundle_build, sar_item_review

    officer = User.objects.get(username="dpo")
    sar = SubjectAccessRequest.objects.get(requester_name="Margaret Demoford")
    for item in sar.items.filter(reviewed_at__isnull=True):
        sar_item_review(item=item, user=officer, decision=ItemDecision.DISCLOSE)
    bundle = sar_bundle_build(sar=sar, user=officer)
    assert len(bundle.items) == sar.items.count()
    print(f"\nDemo bundle: {len(bundle.items)} items, {bundle.pdf_size} bytes PDF, "
          f"{bundle.seconds:.2f}s")  # fmt: skip
    print(bundle.json.open("rb").read().decode()[:3000])
