"""The demo's data protection officer finds a demo person everywhere they are
held, and seed_demo says how long the index took to build."""

import json
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


def test_the_demo_officer_finds_a_demo_person_in_several_places(demo_seeded):
    officer = User.objects.get(username="dpo")
    assert officer.is_data_protection_officer
    assert not officer.works_on_cases
    found = person_search(officer, query_read("Margaret Demoford"))
    hits = [hit for group in found.groups for hit in group.hits]
    # Her own case (the victim), her son's case (a household member), the
    # meeting's discussion of his case, and the note on a diary she kept.
    assert {hit.source.key for hit in hits} >= {"referral", "agenda-item", "share"}
    assert len({h.mention.referral_id for h in hits} - {None}) == 2
    assert {h.mention.described_as for h in hits} >= {"Victim", "Household member"}
    assert [group.kind for group in found.groups].count("Case") == 2
    assert "File share" in [group.kind for group in found.groups]
    page = verified_client_for(officer).get("/rights/people/?q=M+Demoford")
    assert page.status_code == 200
    for group in found.groups:
        assert group.title in page.content.decode()


def test_the_demo_has_a_subject_access_request_in_progress(demo_seeded):
    from rights.models import Exemption, ItemDecision, SarStatus, SubjectAccessRequest

    sar = SubjectAccessRequest.objects.get(requester_name="Margaret Demoford")
    assert sar.status == SarStatus.REVIEWING
    items = list(sar.items.order_by("pk"))
    assert len(items) >= 4
    reviewed = {(i.source_key, i.decision, i.exemption, i.third_party_names)
                for i in items if i.is_reviewed}  # fmt: skip
    assert reviewed == {
        ("referral", ItemDecision.DISCLOSE, "", "Lee Placeford"),
        ("agenda-item", ItemDecision.WITHHOLD, Exemption.CRIME, ""),
    }
    assert len(reviewed) < len(items)  # the rest wait for the officer
    # Each title says its kind once: "Agenda item: case CM-…", not twice.
    kinds = sorted(item.title.split(" CM-")[0].split(" from ")[0] for item in items)
    assert kinds == [
        "Agenda item: case", "File share: Files", "Referral: Case", "Referral: Case",
    ]  # fmt: skip
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
    assert len(bundle.items) == sar.items.count() >= 4
    print(f"\nDemo bundle: {len(bundle.items)} items, {bundle.pdf_size} bytes PDF, "
          f"{bundle.seconds:.2f}s")  # fmt: skip
    content = json.loads(bundle.json.open("rb").read())
    print("| Item | Source | Record | Date |")
    for item in content["items"]:
        print(f"| {item['number']} | {item['source']} | {item['record']} | "
              f"{item['date']} |")  # fmt: skip
    sources = [item["source"] for item in content["items"]]
    assert {"Referral", "Agenda item", "File share"} <= set(sources)
    withheld = [item for item in content["items"] if item["withheld"]]
    assert [item["source"] for item in withheld] == ["Agenda item"]
