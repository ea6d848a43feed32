"""A coordinator corrects an answer of a submitted referral and restricts the
case, by clicking and typing; a refusal on the way is shown by its field;
then the page is reloaded and what was stored is read back from the
database. In Chromium, with axe-core on every page on the way."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from referrals.models import CaseRestriction, ReferralAmendment
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.meetings import accepted
from tests.factories.referrals import submitted_referral

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_section, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(db):
    housing = OrganisationFactory(name="Housing")
    boss = UserFactory(first_name="Chris", last_name="Coordinator",
                       roles=[Role.COORDINATOR])  # fmt: skip
    TOTPDeviceFactory(user=boss)
    referral = accepted(
        submitted_referral(UserFactory(organisation=housing, roles=[Role.REFERRER])),
        boss,
    )
    return {"boss": boss, "referral": referral}


def test_coordinator_corrects_an_answer_and_restricts_the_case(
    page, live_server, people
):
    referral = people["referral"]
    sign_in(page, live_server.url, people["boss"])
    page.goto(f"{live_server.url}{referral.get_absolute_url()}")
    expect_section(page, referral.reference)

    # Correct the victim's safe contact number.
    page.get_by_role("link", name="Correct an answer").click()
    expect_section(page, "Correct an answer")
    page.get_by_label("Which answer needs correcting?").select_option(
        label="People: Person 1: Safe contact number"
    )
    page.get_by_role("button", name="Continue").click()
    expect_section(page, "Correct an answer")
    expect(page.locator("#current-answer")).to_have_text("07700 900 982")
    new_number = page.get_by_label("Corrected answer: Safe contact number")
    new_number.fill("07700 900 123")
    page.get_by_role("button", name="Save the correction").click()
    # No reason: refused, the number typed kept, the message by its field.
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter why the answer is corrected"
    )
    assert_accessible(page)
    expect(new_number).to_have_value("07700 900 123")
    page.get_by_label("Why is it corrected?").fill("She changed her number.")
    page.get_by_role("button", name="Save the correction").click()
    expect_section(page, referral.reference)
    expect(page.locator("#corrections ~ ul").first).to_contain_text(
        "People: Person 1: Safe contact number: was 07700 900 982, now 07700 900 123"
    )

    # Restrict processing while the rest is checked.
    page.get_by_role("link", name="Restrict processing of this case").click()
    expect_section(page, "Restrict processing")
    page.get_by_label("Why is processing restricted?").fill(
        "The person disputes the address; checking with housing."
    )
    page.get_by_role("button", name="Restrict processing").click()
    expect_section(page, referral.reference)
    screenshot(page, "case-restricted")

    page.reload()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "Processing of this case is restricted"
    )
    expect(page.get_by_role("link", name="Lift the restriction")).to_be_visible()
    assert_accessible(page)

    amendment = ReferralAmendment.objects.get(referral=referral)
    assert (amendment.before, amendment.after) == ("07700 900 982", "07700 900 123")
    assert amendment.reason == "She changed her number."
    assert amendment.amended_by == people["boss"]
    referral.refresh_from_db()
    assert referral.answers["people"]["people"][0]["phone"] == "07700 900 123"
    restriction = CaseRestriction.objects.in_force().get(referral=referral)
    assert restriction.reason.startswith("The person disputes the address")
    assert restriction.restricted_by == people["boss"]
