"""A board member signs in, finds the statistics in the menu, types a period
(first wrongly, then rightly) and reads the figures: the chart's summary and
the table beside it show the hidden counts as "fewer than 5". In Chromium,
with axe-core on every page on the way."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.board.crafted import quarter_dataset
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

from .conftest import assert_accessible, screenshot
from .test_referrals import group, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fill_month(page, legend: str, month: str, year: str) -> None:
    dates = group(page, legend)
    dates.get_by_label("Month").fill(month)
    dates.get_by_label("Year").fill(year)


def test_a_board_member_sets_a_period_and_reads_the_figures(page, live_server):
    quarter_dataset()
    member = UserFactory(first_name="Bea", last_name="Board", roles=[Role.BOARD],
                         organisation=OrganisationFactory(party=False))  # fmt: skip
    TOTPDeviceFactory(user=member)
    sign_in(page, live_server.url, member)
    menu = page.get_by_role("navigation", name="Menu")
    expect(menu.get_by_role("link", name="Referrals")).to_have_count(0)
    menu.get_by_role("link", name="Board statistics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Board statistics")
    assert_accessible(page)

    # A month that does not exist: refused by the field, what was typed kept.
    fill_month(page, "From", "13", "2026")
    fill_month(page, "To", "3", "2026")
    page.get_by_role("button", name="Show figures").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Start month must be a real month"
    )
    expect(group(page, "From").get_by_label("Month")).to_have_value("13")
    assert_accessible(page)

    fill_month(page, "From", "1", "2026")
    page.get_by_role("button", name="Show figures").click()
    expect(page.locator(".govuk-caption-l")).to_have_text("January 2026 to March 2026")
    section = page.get_by_role("region", name="Referrals by month", exact=True)
    expect(section.locator("[data-summary]")).to_have_text(
        "Referrals: fewer than 5 in February 2026 and withheld in March 2026. "
        "13 in all."
    )
    chart = section.get_by_role("img", name="Referrals by month")
    expect(chart).to_be_visible()
    table = section.get_by_role("table")
    expect(table.get_by_role("row", name=re.compile("January 2026"))).to_contain_text(
        "6"
    )
    expect(table.get_by_role("row", name=re.compile("February 2026"))).to_contain_text(
        "fewer than 5"
    )
    expect(page.get_by_text("CM-2026")).to_have_count(0)
    assert_accessible(page)
    screenshot(page, "board-statistics")
