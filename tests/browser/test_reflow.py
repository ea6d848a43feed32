"""Pages with data tables reflow at 320 CSS pixels (WCAG 1.4.10).

A wide table scrolls inside its own labelled box; the page itself never
scrolls sideways. Checked on the demo data, whose tables are as wide as the
real ones, for the coordinator (who sees the most tables).
"""

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from agreements.models import SharingAgreementPage
from documents.models import Share
from meetings.models import Meeting
from referrals.models import Referral
from tests.conftest import current_code

from .conftest import assert_accessible

# The demo, committed for the module, and database access without emptying
# it after each test (see there).
from .test_every_page import demo, transactional_db  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

WIDTH = 320


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(settings.DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    page.get_by_label("Security code").fill(current_code(device))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def pages_with_tables() -> list[str]:
    meeting = Meeting.objects.order_by("-pk").first()
    return [
        "/referrals/",
        Referral.objects.order_by("pk").first().get_absolute_url(),
        "/meetings/",
        meeting.get_absolute_url(),
        f"/meetings/{meeting.pk}/record/",
        "/files/",
        Share.objects.order_by("pk").first().get_absolute_url(),
        "/agreements/",
        SharingAgreementPage.objects.live().first().url,
    ]


def test_pages_with_tables_do_not_scroll_sideways_at_320_pixels(
    page,
    live_server,
    demo,  # noqa: F811
):
    page.set_viewport_size({"width": WIDTH, "height": 800})
    sign_in(page, live_server.url, "coordinator")
    wide = []
    for path in pages_with_tables():
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        tables = page.locator("table")
        assert tables.count(), f"{path} has no table to check"
        # Every table scrolls in a focusable region named by its caption.
        containers = page.locator(
            ".app-table-container[role=region][tabindex='0'] > table"
        )
        assert containers.count() == tables.count(), path
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > WIDTH:
            wide.append(f"{path}: {width}px")
        assert_accessible(page)
    assert not wide, "pages wider than the screen:\n" + "\n".join(wide)
