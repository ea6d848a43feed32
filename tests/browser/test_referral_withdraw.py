"""The referring agency withdraws a referral before screening: first without
a reason (refused by the field and in the summary, nothing changed), then
with one. After a reload the case says withdrawn and gives the reason, and a
coordinator, told in What's new, reads it. In Chromium, with axe-core on
every page on the way."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from referrals.models import Referral, Status
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.referrals import submitted_referral

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_error, expect_section, sign_in, summary_value

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WHY = "The family moved out of the area; the new council's team has the case."
REASON = "Why are you withdrawing it?"


@pytest.fixture
def people(db):
    housing = OrganisationFactory(name="Housing")
    referrer = UserFactory(first_name="Sam", organisation=housing,
                           roles=[Role.REFERRER])  # fmt: skip
    coordinator = UserFactory(first_name="Chris", roles=[Role.COORDINATOR])
    for person in (referrer, coordinator):
        TOTPDeviceFactory(user=person)
    return {"referrer": referrer, "coordinator": coordinator,
            "referral": submitted_referral(referrer)}  # fmt: skip


def test_the_referrer_withdraws_with_a_reason(
    page, browser, browser_context_args, live_server, people
):
    referral = people["referral"]
    sign_in(page, live_server.url, people["referrer"])
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("link", name=referral.reference).click()
    expect_section(page, referral.reference)
    expect(page.get_by_role("heading", name="Withdraw this referral")).to_be_visible()

    # No reason: the error by the field and in the summary, nothing changed.
    page.get_by_role("button", name="Withdraw the referral").click()
    expect_error(
        page,
        "Enter why you are withdrawing the referral",
        page.get_by_label(REASON),
    )
    expect(page.get_by_label(REASON)).to_have_value("")
    screenshot(page, "withdraw-error")
    assert Referral.objects.get(pk=referral.pk).status == Status.SUBMITTED

    expect(page.locator(".govuk-tag").first).to_have_text("Submitted")
    page.get_by_label(REASON).fill(WHY)
    page.get_by_role("button", name="Withdraw the referral").click()
    expect_section(page, referral.reference)
    expect(
        page.get_by_text(
            f"{referral.reference} is withdrawn. The coordinators have been told."
        )
    ).to_be_visible()

    page.reload()
    assert_accessible(page)
    expect(page.locator(".govuk-tag").first).to_have_text(
        "Withdrawn by the referring agency"
    )
    expect(summary_value(page, "Reason")).to_have_text(WHY)
    expect(page.get_by_role("button", name="Withdraw the referral")).to_have_count(0)
    referral.refresh_from_db()
    assert (referral.status, referral.outcome_reason) == (Status.WITHDRAWN, WHY)

    # The coordinator is told, and reads the reason on the case.
    context = browser.new_context(**browser_context_args)
    other = context.new_page()
    sign_in(other, live_server.url, people["coordinator"])
    other.get_by_role("link", name="What's new (1)").click()
    expect_section(other, "What's new")
    other.get_by_role(
        "link",
        name=f"Referral {referral.reference} was withdrawn by the referring agency",
    ).click()
    expect_section(other, referral.reference)
    expect(other.locator(".govuk-tag").first).to_have_text(
        "Withdrawn by the referring agency"
    )
    expect(summary_value(other, "Reason")).to_have_text(WHY)
    screenshot(other, "withdrawn-coordinator")
    context.close()
