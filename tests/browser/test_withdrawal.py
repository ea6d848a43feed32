"""A coordinator withdraws a partner organisation: a refusal that keeps what
was typed, the confirmation page listing what will happen, and the report,
reloaded, showing every step done. In Chromium, with axe-core on each page."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from partners.models import Withdrawal
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.documents import shared
from tests.factories.referrals import share, submitted_referral

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_section, fill_date, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WHY = "The befriending service closed when its funding ended."


@pytest.fixture
def people(db):
    coordinator = UserFactory(first_name="Cora", roles=[Role.COORDINATOR])
    TOTPDeviceFactory(user=coordinator)
    leaving = OrganisationFactory(name="Riverside Community Trust")
    contact = UserFactory(organisation=leaving, roles=[Role.REFERRER])
    leaving.single_point_of_contact = contact
    leaving.save()
    sender = UserFactory(roles=[Role.REFERRER])
    share(submitted_referral(sender), leaving)
    shared(sender, [leaving])
    return {"coordinator": coordinator, "leaving": leaving, "contact": contact}


def test_a_coordinator_withdraws_a_partner(page, live_server, people):
    leaving = people["leaving"]
    sign_in(page, live_server.url, people["coordinator"])
    page.goto(f"{live_server.url}/partners/")
    expect_section(page, "Partner withdrawals")
    page.get_by_role("link", name="Withdraw a partner organisation").click()
    expect_section(page, "Withdraw a partner organisation")

    # No organisation chosen: refused, and the reason typed is kept.
    page.get_by_label("Why is it withdrawing?").fill(WHY)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select the organisation that is withdrawing")
    expect(summary).to_contain_text("Enter the date of withdrawal")
    expect(page.get_by_label("Why is it withdrawing?")).to_have_value(WHY)
    assert_accessible(page)

    page.get_by_label("Which organisation is withdrawing?").select_option(
        label=leaving.name
    )
    today = timezone.localdate()
    fill_date(
        page,
        "When did it withdraw?",
        str(today.day),
        str(today.month),
        str(today.year),
    )
    page.get_by_role("button", name="Continue").click()
    expect_section(page, f"You are about to withdraw {leaving.name}")
    happens = page.locator("#what-will-happen")
    expect(happens).to_contain_text("suspend its 1 active account")
    expect(happens).to_contain_text("end its access to 1 case")
    expect(happens).to_contain_text("recall 1 file share")
    screenshot(page, "withdrawal-confirm")
    assert not Withdrawal.objects.exists()

    page.get_by_role("button", name=f"Withdraw {leaving.name}").click()
    expect_section(page, f"Withdrawal of {leaving.name}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"{leaving.name} has been withdrawn"
    )

    page.reload()
    expect_section(page, f"Withdrawal of {leaving.name}")
    steps = page.locator("#steps")
    expect(steps).to_contain_text("Access to cases ended")
    expect(steps).not_to_contain_text("Not done")
    expect(page.get_by_text("Waiting for confirmation")).to_be_visible()
    screenshot(page, "withdrawal-report")
    withdrawal = Withdrawal.objects.get()
    assert withdrawal.is_complete
    assert withdrawal.authorised_by == people["coordinator"]
