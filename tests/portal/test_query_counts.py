"""Each page issues the same number of queries with ten rows as with a thousand.

The scale loader (bench.scale) builds a small partnership and then, in its
place, a large one; every page is requested once to warm the caches and once
under CaptureQueriesContext. A page whose count grows with its rows has a
per-row query: a missing select_related or prefetch, or a template asking the
database from inside a loop. On failure the message lists the queries that
appear more often with more rows.

Agreement pages and guidance pages grow along other lines (signatory
organisations, blocks on a page), so they are built with the factories.
"""

import re
from collections import Counter
from dataclasses import dataclass, replace

import pytest
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Organisation, OrganisationType, Role, User
from agreements.models import Acknowledgement, ChangeType
from audit.chain import GENESIS_HASH
from bench.scale import SLUG_PREFIX, Sizes, load_scale_data
from documents.models import PortalDocument
from documents.selectors import shares_received, shares_sent
from home.models import GuidanceIndexPage, GuidancePage
from meetings.models import AgendaItem
from meetings.selectors import meetings_visible_to, referrals_for_agenda
from portal import freshness
from referrals.models import OPEN_STATUSES
from referrals.selectors import referrals_visible_to
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.agreements import (
    acknowledge,
    agreement_tree,
    publish_change,
    signatory_for,
)
from tests.factories.guidance import guidance

# A walk over the whole portal: `make test` runs it, `make test-fast` does not.
pytestmark = [pytest.mark.django_db, pytest.mark.sweep]

SMALL = Sizes(
    organisations=6,
    users=16,
    coordinators=1,
    editors=1,
    referrals=30,
    people_per_referral=3,
    incidents_per_referral=2,
    meetings=4,
    upcoming_meetings=2,
    cases_per_meeting=8,
    actions_per_case=2,
    shares=15,
    files_per_share=5,
    guidance_pages=10,
    audit_events=20,
)
LARGE = replace(
    SMALL, users=80, referrals=1000, meetings=40, upcoming_meetings=4, shares=1000,
    guidance_pages=100, cases_per_meeting=30,
)  # fmt: skip


@dataclass
class Measured:
    rows: int  # how many of the page's kind of row the user can see
    queries: list[str]
    page_number: int | None = None
    # Queries of the same request again, answered from the shared caches.
    kept: int = 0

    @property
    def count(self) -> int:
        return len(self.queries)


def _measure(client, url: str, rows: int) -> Measured:
    warm = client.get(url)  # site root paths, content types, sessions
    assert warm.status_code == 200, (url, warm.status_code)
    freshness.outdate()  # count the work behind the cached parts, not the cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    page = (response.context or {}).get("page")
    with CaptureQueriesContext(connection) as again:
        assert client.get(url).status_code == 200
    return Measured(
        rows,
        [query["sql"] for query in captured.captured_queries],
        getattr(page, "number", None),
        len(again),
    )


def _shape(sql: str) -> str:
    """The query without its values (or savepoint names), so the same query
    for two rows matches."""
    sql = re.sub(r'"s\d+_x\d+"|\b\d+\b|\'[^\']*\'', "?", sql)
    return re.sub(r"IN \(\?(?:, \?)*\)", "IN (...)", sql)


def _growth(small: Measured, large: Measured) -> str:
    few, many = Counter(map(_shape, small.queries)), Counter(map(_shape, large.queries))
    lines = [
        f"{many[sql] - few[sql]:+d} x {sql[:300]}"
        for sql in many | few
        if many[sql] != few[sql]
    ]
    return (
        f"{small.count} queries with {small.rows} rows, {large.count} with "
        f"{large.rows}:\n" + "\n".join(lines)
    )


def _pages(loader) -> dict[str, tuple[User, str, int]]:
    """Page name -> (who, URL, rows of its kind that person can see)."""
    first = loader.organisations[0]
    referrer = loader.referrers_by_org[first.pk][0]
    coordinator = loader.coordinators[0]
    visible = referrals_visible_to(referrer)
    own = visible.filter(organisation=first).order_by("-submitted_at").first()
    # The loader shares a case only by inviting an agency to it at a meeting.
    shared = visible.exclude(organisation=first).order_by("-submitted_at").first()
    everyone = referrals_visible_to(coordinator).count()
    guidance_pages = GuidancePage.objects.filter(slug__startswith=SLUG_PREFIX)
    received = shares_received(referrer).count()
    sent = shares_sent(referrer).count()
    # The meeting with the most cases the referrer's agency is invited to.
    meetings = meetings_visible_to(referrer)
    invited = AgendaItem.objects.filter(
        meeting__in=meetings, invited=first
    ).values_list("meeting_id", flat=True)
    busiest = Counter(invited).most_common(1)[0]
    meeting = meetings.get(pk=busiest[0])
    # The coordinator's busiest meeting whose agenda can still change: its
    # page also lists the cases waiting for a meeting (issue 23).
    building = max(
        (
            candidate
            for candidate in meetings_visible_to(coordinator).annotate(
                cases=Count("agenda_items")
            )
            if not candidate.refusal("change_agenda")
        ),
        key=lambda candidate: (candidate.cases, candidate.pk),
    )
    # The small partnership puts every accepted case on its meetings; one
    # taken off leaves a case waiting, so both pages draw the add-a-case form.
    building.agenda_items.order_by("-position").first().delete()
    return {
        "home, referrer": (
            referrer,
            "/",
            visible.filter(organisation=first, status__in=OPEN_STATUSES).count(),
        ),
        "home, coordinator": (coordinator, "/", everyone),
        "referral list, coordinator": (coordinator, "/referrals/", everyone),
        "referral list page 2, coordinator": (
            coordinator,
            "/referrals/?page=2",
            everyone,
        ),
        "referral list, referrer": (referrer, "/referrals/", visible.count()),
        "referral, coordinator": (coordinator, own.get_absolute_url(), everyone),
        "referral, referrer": (referrer, own.get_absolute_url(), visible.count()),
        "referral, invited agency": (
            referrer,
            shared.get_absolute_url(),
            visible.count(),
        ),
        "guidance page": (
            referrer,
            guidance_pages.order_by("path").first().url,
            guidance_pages.count(),
        ),
        "guidance index": (
            referrer,
            GuidanceIndexPage.objects.get().url,
            guidance_pages.count(),
        ),
        "meetings list, referrer": (referrer, "/meetings/", meetings.count()),
        "meetings list, coordinator": (
            coordinator,
            "/meetings/",
            meetings_visible_to(coordinator).count(),
        ),
        "meeting, referrer": (referrer, meeting.get_absolute_url(), busiest[1]),
        "meeting, coordinator": (
            coordinator,
            building.get_absolute_url(),
            # Its agenda, and the cases waiting that it lists and counts.
            building.cases - 1 + referrals_for_agenda(coordinator, building).count(),
        ),
        "shared files, received": (referrer, "/files/", received),
        "shared files, sent": (referrer, "/files/?show=sent", sent),
        "shared file download": (
            referrer,
            shares_received(referrer).first().files.first().get_download_url(),
            received,
        ),
    }


PAGES = [
    "home, referrer",
    "home, coordinator",
    "referral list, coordinator",
    "referral list page 2, coordinator",
    "referral list, referrer",
    "referral, coordinator",
    "referral, referrer",
    "referral, invited agency",
    "guidance page",
    "guidance index",
    "meetings list, referrer",
    "meetings list, coordinator",
    "meeting, referrer",
    "meeting, coordinator",
    "shared files, received",
    "shared files, sent",
    "shared file download",
]


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker) -> dict[str, dict[str, Measured]]:
    """Every page measured on the small partnership and then the large one,
    each loaded in a transaction rolled back after it is measured."""
    results = {}
    with django_db_blocker.unblock():
        for label, sizes in (("small", SMALL), ("large", LARGE)):
            with transaction.atomic():
                loader = load_scale_data(sizes=sizes, seed=7)
                pages = _pages(loader)
                assert list(pages) == PAGES
                clients = {}
                results[label] = {}
                for name, (user, url, rows) in pages.items():
                    client = clients.setdefault(user.pk, verified_client_for(user))
                    results[label][name] = _measure(client, url, rows)
                transaction.set_rollback(True)
    return results


@pytest.mark.parametrize("page", PAGES)
def test_queries_do_not_grow_with_rows(measured, page):
    small, large = measured["small"][page], measured["large"][page]
    assert 0 < small.rows < large.rows, "the two partnerships must differ in rows"
    assert small.count == large.count, _growth(small, large)


# Issue 23: the meeting pages' queries, with the shared caches outdated (the
# ISA decision and good standing, the agenda and the add-a-case form worked
# out: what the first reader after any change pays) and answered from them
# (on the bench data, 21 and 23 queries before, 9 and 9 after). Lower them
# here when a change saves one.
MEETING_QUERIES = {"meeting, referrer": (34, 15), "meeting, coordinator": (38, 15)}


@pytest.mark.parametrize("page", MEETING_QUERIES)
def test_the_meeting_pages_make_few_queries(measured, page):
    behind, kept = MEETING_QUERIES[page]
    # On PostgreSQL the audit write takes the chain's lock in a query of its
    # own (pg_try_advisory_xact_lock); SQLite's lock is the transaction's.
    lock = int(connection.vendor == "postgresql")
    for label in ("small", "large"):
        counted = measured[label][page]
        assert counted.count <= behind + lock, "\n".join(counted.queries)
        assert counted.kept <= kept + lock, f"{label}: {counted.kept} from the caches"


# Issue 23: a shared file's download, with the shared caches outdated (the
# ISA decision worked out) and answered from them: the person, the file with
# the check that they may have it, and the download's record and audit event
# in one transaction. Before the file's check was folded into one query on
# the file's own share the count was the same but the query bigger; lower
# these when a change saves one. (The meeting pack's download is counted in
# tests/meetings/test_pack_download.py, where packs are built.)
DOWNLOAD_QUERIES = {"shared file download": (19, 12)}


@pytest.mark.parametrize("page", DOWNLOAD_QUERIES)
def test_the_downloads_make_few_queries(measured, page):
    _within(measured, page, *DOWNLOAD_QUERIES[page])


# Issue 23: the case page's queries, with the shared caches outdated (what
# the first reader after any change pays) and answered from them. From the
# caches it is the signed-in page's own (the person, the session, the audit
# write) and the referral (whether they may see it, asked afresh); its body
# is kept per audience (referrals.views._kept_case_body). Before that: 13, 10
# and 9 from the caches. Lower them here when a change saves one.
CASE_QUERIES = {
    "referral, coordinator": (23, 5),
    "referral, referrer": (20, 5),
    "referral, invited agency": (19, 5),
}


@pytest.mark.parametrize("page", CASE_QUERIES)
def test_the_case_pages_make_few_queries(measured, page):
    _within(measured, page, *CASE_QUERIES[page])


def _within(measured, page, behind, kept):
    """At most ``behind`` queries with the caches outdated and ``kept`` from
    them, at both sizes (PostgreSQL one more, for the audit lock)."""
    lock = int(connection.vendor == "postgresql")  # as for the meeting pages
    for label in ("small", "large"):
        counted = measured[label][page]
        assert counted.count <= behind + lock, "\n".join(counted.queries)
        assert counted.kept <= kept + lock, f"{label}: {counted.kept} from the caches"


def test_the_referral_list_serves_its_second_page(measured):
    for label in ("small", "large"):
        assert measured[label]["referral list page 2, coordinator"].page_number == 2
        assert measured[label]["referral list, coordinator"].page_number == 1


def test_the_partnerships_are_about_ten_and_a_thousand(measured):
    assert measured["small"]["referral list, coordinator"].rows == SMALL.referrals
    assert measured["large"]["referral list, coordinator"].rows == LARGE.referrals
    assert measured["large"]["shared files, received"].rows >= 250


# Agreements: the signatory organisations and their acknowledgements grow.


def _acknowledged_by(version, organisations, user) -> None:
    """Every organisation's acknowledgement of ``version`` in one insert,
    linked in the acknowledgement chain as ``chain_append`` links each."""
    previous = (
        Acknowledgement.objects.order_by("-id").values_list("hash", flat=True).first()
        or GENESIS_HASH
    )
    rows = []
    for organisation in organisations:
        row = Acknowledgement(
            version=version,
            organisation=organisation,
            organisation_name=organisation.name,
            user=user,
            username=user.username,
            signatory_name=user.get_full_name(),
            signatory_role="Head of service",
            acknowledged_at=timezone.now(),
            ip_address="127.0.0.1",
            content_hash=version.content_hash,
            previous_hash=previous,
        )
        row.hash = previous = row.compute_hash()
        rows.append(row)
    Acknowledgement.objects.bulk_create(rows, batch_size=2000)


def _agreement_pages(counts=(10, 1000)) -> dict[int, dict[str, Measured]]:
    """The agreement pages with ``counts`` signatory organisations, all but
    one acknowledged, each built in a transaction rolled back after it."""
    measured = {}
    for count in counts:
        with transaction.atomic():
            organisations = Organisation.objects.bulk_create(
                Organisation(
                    name=f"Signatory agency {n:04d}",
                    slug=f"signatory-{n:04d}",
                    type=OrganisationType.HOUSING,
                )
                for n in range(count)
            )
            protocol, isa, _, coordinator = agreement_tree(organisations=organisations)
            signatory = signatory_for(organisations[0])
            for page in (protocol, isa):
                version = page.latest_version
                acknowledge(version, organisations[0], signatory)
                # The last one has not acknowledged: it shows as outstanding.
                _acknowledged_by(version, organisations[1:-1], coordinator)
            client = verified_client_for(signatory)
            measured[count] = {
                "ISA page, signatory": _measure(client, isa.url, count),
                "protocol page, signatory": _measure(client, protocol.url, count),
                "agreements index, signatory": _measure(
                    client, isa.get_parent().get_parent().url, count
                ),
                "ISA page, coordinator": _measure(
                    verified_client_for(coordinator), isa.url, count
                ),
            }
            transaction.set_rollback(True)
    return measured


def test_agreement_pages_with_ten_or_a_thousand_signatories():
    measured = _agreement_pages()
    for page, small in measured[10].items():
        assert small.count == measured[1000][page].count, (
            page,
            _growth(small, measured[1000][page]),
        )


# Guidance: the blocks on one page grow (agreement links and documents).


def _guidance_pages(links=(1, 40)) -> dict[int, Measured]:
    """A guidance page with ``links`` agreement links and as many documents."""
    protocol, isa, organisations, _ = agreement_tree()
    reader = UserFactory(organisation=organisations[0], roles=[Role.REFERRER])
    client = verified_client_for(reader)
    document = PortalDocument.objects.create(
        title="Terms of reference",
        file=ContentFile(b"%PDF-1.4\n%%EOF\n", name="terms.pdf"),
    )
    measured = {}
    for count in links:
        body = [("text", "<p>Read the agreements before you share.</p>")]
        for n in range(count):
            body.append(
                (
                    "agreement",
                    {
                        "agreement": isa if n % 2 else protocol,
                        "version": "1.0",
                        "text": "",
                    },
                )  # fmt: skip
            )
            body.append(
                ("document", {"document": document, "title": "", "description": ""})
            )
        page = guidance(title=f"Sharing, {count} links", body=body)
        measured[count] = _measure(client, page.url, count)
    return measured


def test_a_guidance_page_with_few_or_many_links():
    measured = _guidance_pages()
    assert measured[1].count == measured[40].count, _growth(measured[1], measured[40])


def test_a_guidance_page_linking_to_replaced_versions():
    protocol, isa, organisations, coordinator = agreement_tree()
    protocol, isa = (
        publish_change(page, coordinator, number="1.1",
                       change_type=ChangeType.EDITORIAL)
        for page in (protocol, isa)
    )  # fmt: skip
    client = verified_client_for(
        UserFactory(organisation=organisations[0], roles=[Role.REFERRER])
    )
    measured = {}
    for agreements in ([isa], [isa, protocol]):
        body = [
            ("agreement", {"agreement": page, "version": "1.0", "text": ""})
            for page in agreements
        ]
        page = guidance(title=f"Sharing, {len(agreements)} replaced", body=body)
        measured[len(agreements)] = _measure(client, page.url, len(agreements))
        assert "has been replaced" in client.get(page.url).content.decode()
    assert measured[1].count == measured[2].count, _growth(measured[1], measured[2])
