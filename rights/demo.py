"""The person index and a subject access request in progress over the demo
partnership (development only).

The demo's records are written through the services, so the receivers have
indexed them already; rebuilding here checks the whole index against the
records and gives the figure docs/benchmarks.md quotes for the demo. The
request is opened, checked and partly reviewed through the services too.
"""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User

from .matching import query_read
from .models import Exemption, ItemDecision, SubjectAccessRequest
from .sar import (
    sar_identity_record,
    sar_item_review,
    sar_items_add,
    sar_open,
)
from .selectors import person_search
from .services import RebuildResult, person_index_rebuild

DEMO_REQUESTER = "Margaret Demoford"


def demo_person_index_seed() -> RebuildResult:
    return person_index_rebuild()


def demo_sar_seed() -> SubjectAccessRequest | None:
    """A request from a demo person, received 12 days ago, identity checked,
    every record found included (her own case, her son's case where she is
    a household member, the meeting's discussion of his case and the note on
    a noise diary she kept) and two reviewed: her case disclosed with the
    other party's name hidden, the discussion withheld under the crime
    exemption. The rest wait."""
    existing = SubjectAccessRequest.objects.filter(
        requester_name=DEMO_REQUESTER
    ).first()
    officer = User.objects.filter(username="dpo").first()
    if existing is not None or officer is None:
        return existing
    today = timezone.localdate()
    sar = sar_open(
        user=officer, requester_name=DEMO_REQUESTER,
        requester_address="Flat 3, 12 Example Road", received_on=today -
        timedelta(days=12),
    )  # fmt: skip
    sar = sar_identity_record(
        sar=sar, user=officer, method="documents", checked_on=today - timedelta(10),
        note="Driving licence seen at the council office",
    )  # fmt: skip
    found = person_search(officer, query_read(DEMO_REQUESTER))
    records = sorted({(h.source.key, h.mention.source_id)
                      for g in found.groups for h in g.hits})  # fmt: skip
    if not records:
        return sar
    items = sar_items_add(sar=sar, user=officer, records=records)
    first = {}
    for item in items:
        first.setdefault(item.source_key, item)
    if "referral" in first:  # her own case, the earliest
        sar_item_review(item=first["referral"], user=officer,
                        decision=ItemDecision.DISCLOSE,
                        third_party_names="Lee Placeford")  # fmt: skip
    if "agenda-item" in first:
        sar_item_review(item=first["agenda-item"], user=officer,
                        decision=ItemDecision.WITHHOLD,
                        exemption=Exemption.CRIME)  # fmt: skip
    return sar
