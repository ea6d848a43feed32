"""A caseworker searches for words they remember from inside an agreement's
clause and from the meeting resources page, not from any title, and reaches
both from the results. In Chromium, with axe-core on every page on the way."""

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect
from wagtail.documents import get_document_model

from accounts.models import Role
from home.models import HomePage, MeetingResourcesPage
from tests.factories import TOTPDeviceFactory, UserFactory
from tests.factories.agreements import agreement_tree

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_section, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CLAUSE = "Kept for two years after closure."
RESOURCE = "Score each case with the harm matrix before the panel."


def _meeting_resources():
    editor = UserFactory(roles=[Role.EDITOR])
    guide = get_document_model().objects.create(
        title="Scoring guide",
        file=ContentFile(b"%PDF-1.7 guide", name="scoring.pdf"),
        uploaded_by_user=editor,
    )
    page = MeetingResourcesPage(
        title="Meeting resources",
        slug="meeting-resources",
        body="<p>Send apologies to the coordinator.</p>",
        resources=[
            (
                "document",
                {"document": guide, "title": "Scoring guide", "description": RESOURCE},
            ),
        ],  # fmt: skip
        owner=editor,
    )
    HomePage.objects.get().add_child(instance=page)
    page.save_revision(user=editor).publish(user=UserFactory(roles=[Role.COORDINATOR]))


@pytest.fixture
def caseworker(db):
    agreement_tree(searchable=True)
    _meeting_resources()
    person = UserFactory(first_name="Kim", roles=[Role.REFERRER])
    TOTPDeviceFactory(user=person)
    return person


def _search(page, words: str) -> None:
    page.get_by_role("link", name="Search", exact=True).click()
    expect_section(page, "Search")
    # The label names everything the search reads (it said "guidance and
    # agreements" when meeting resources were searched too).
    page.get_by_label("Search guidance, agreements and meeting resources").fill(words)
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"for ‘{words}’")
    assert_accessible(page)


def test_words_from_a_clause_and_a_resource_find_their_pages(
    page, live_server, caseworker
):
    sign_in(page, live_server.url, caseworker)

    _search(page, "two years after closure")
    screenshot(page, "search-clause")
    page.get_by_role("link", name="CMARAC ISA", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("CMARAC ISA")
    expect(page.get_by_text(CLAUSE)).to_be_visible()
    assert_accessible(page)

    _search(page, "harm matrix")
    results = page.get_by_role("main")
    expect(
        results.get_by_role(
            "heading", name="Guidance, agreements and meeting resources"
        )
    ).to_be_visible()
    expect(results.get_by_role("link", name="CMARAC ISA")).to_have_count(0)
    results.get_by_role("link", name="Meeting resources", exact=True).click()
    expect_section(page, "Meeting resources")
    expect(page.get_by_text(RESOURCE)).to_be_visible()
    expect(page.get_by_role("link", name="Scoring guide")).to_be_visible()
