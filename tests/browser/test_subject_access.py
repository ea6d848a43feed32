"""The data protection officer opens a subject access request, searches the
person index with the requester's details, includes two records, withholds
one under an exemption and marks a field of the other as third party, by
clicking and typing; reloaded, each page shows what was stored; then
produces the bundle. In Chromium, with axe-core on every page on the way."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from rights.models import Exemption, ItemDecision, SubjectAccessRequest
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.referrals import person, submitted_referral

from .conftest import assert_accessible, screenshot
from .test_referrals import choose, expect_section, fill_date, group, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Marigold Fenwick-Hale"
OTHER = "Barnaby Coldharbour"


@pytest.fixture
def world(db):
    officer = UserFactory(first_name="Dana", last_name="Officer", roles=[Role.DPO],
                          organisation=OrganisationFactory())  # fmt: skip
    TOTPDeviceFactory(user=officer)
    first = submitted_referral(
        people=[person(0, name=NAME, born=(3, 3, 1984)),
                person(1, role="causing_harm", name=OTHER)]
    )  # fmt: skip
    second = submitted_referral(people=[person(0, name=NAME, born=(3, 3, 1984))])
    return officer, first, second


def test_open_search_include_and_review(page, live_server, world):
    officer, first, second = world
    sign_in(page, live_server.url, officer)
    page.goto(f"{live_server.url}/rights/access-requests/new/")
    expect_section(page, "Open a subject access request")
    page.get_by_label("Requester's full name").fill(NAME)
    fill_date(page, "Date of birth (optional)", "3", "3", "1984")
    today = timezone.localdate()
    fill_date(page, "Date the request was received", str(today.day),
              str(today.month), str(today.year))  # fmt: skip
    page.get_by_role("button", name="Open the request").click()
    sar = SubjectAccessRequest.objects.get()
    expect_section(page, sar.reference)

    page.get_by_role("link", name="Search and add records").click()
    expect_section(page, "Search and add records")
    records = group(page, "Records to include")
    records.get_by_label(re.compile(rf"^Case {first.reference}: Referral")).check()
    records.get_by_label(re.compile(rf"^Case {second.reference}: Referral")).check()
    page.get_by_role("button", name="Add the selected records").click()
    expect_section(page, sar.reference)
    expect(page.get_by_text("0 of 2 reviewed.")).to_be_visible()

    # The first: disclosed, with person 2's name field and his name hidden.
    page.get_by_role("link", name=f"Referral: Case {first.reference}").click()
    expect_section(page, f"Referral: Case {first.reference}")
    choose(page, "Decision", "Disclose")
    fields = group(page, "Fields about other people")
    label = fields.get_by_label(re.compile(r"person 2.*Full name", re.I)).first
    label.check()
    page.get_by_label("Names of other people to hide").fill(OTHER)
    page.get_by_role("button", name="Save the decision").click()
    expect_section(page, sar.reference)

    # The second: withheld, but first without the exemption: refused, kept.
    page.get_by_role("link", name=f"Referral: Case {second.reference}").click()
    choose(page, "Decision", "Withhold under an exemption")
    page.get_by_role("button", name="Save the decision").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select the exemption that applies"
    )
    assert_accessible(page)
    page.get_by_label("Exemption (if withheld)").select_option(Exemption.CRIME.value)
    page.get_by_role("button", name="Save the decision").click()
    expect_section(page, sar.reference)
    page.reload()
    expect(page.get_by_text("2 of 2 reviewed.")).to_be_visible()
    assert_accessible(page)
    screenshot(page, "subject-access-request")

    first_item = sar.items.get(source_key="referral", source_id=first.pk)
    second_item = sar.items.get(source_key="referral", source_id=second.pk)
    assert first_item.decision == ItemDecision.DISCLOSE
    assert len(first_item.third_party_fields) == 1
    assert "person 2" in first_item.third_party_fields[0].lower()
    assert first_item.third_party_names == OTHER
    assert second_item.decision == ItemDecision.WITHHOLD
    assert second_item.exemption == Exemption.CRIME

    # The review page, reloaded, shows the stored choices.
    page.get_by_role("link", name=f"Referral: Case {first.reference}").click()
    page.reload()
    expect(group(page, "Decision").get_by_label("Disclose", exact=True)).to_be_checked()
    expect(label).to_be_checked()
    expect(page.get_by_label("Names of other people to hide")).to_have_value(OTHER)

    # Producing the bundle: the test settings' queue runs the build at once,
    # so the page comes back with version 1 listed.
    page.goto(f"{live_server.url}/rights/access-requests/{sar.pk}/")
    page.get_by_role("button", name="Produce the bundle").click()
    expect(page.get_by_text("Bundle version 1 requested.")).to_be_visible()
    expect(
        page.get_by_role("link", name=re.compile(r"^PDF\W+version 1$"))
    ).to_be_visible()
    expect(page.locator("#bundle-preparing")).to_have_count(0)
    assert_accessible(page)
