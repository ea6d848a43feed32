"""The warning before the idle sign-out, in Chromium: it appears, "Stay signed
in" and Escape keep the session, and waiting it out signs the person out with
the reason on the sign-in page and their answers kept (WCAG 2.2.1)."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from referrals.models import ReferralDraft
from tests.conftest import current_code
from tests.factories import TEST_PASSWORD, TOTPDeviceFactory, UserFactory

from .conftest import assert_accessible, screenshot
from .test_referrals import choose, expect_section, group, sign_in
from .test_sign_in import enter_security_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Short enough to wait out, long enough for a page to load and be checked.
TIMEOUT = timedelta(seconds=12)
WARNING = timedelta(seconds=7)
# Long enough for the dialog to appear, or the timeout to end, with room.
WAIT_MS = 25_000
REASON = "Nothing has worked so far, and it is getting worse."
VULNERABLE = "Who in this case is vulnerable?"


@pytest.fixture
def referrer(db):
    person = UserFactory(first_name="Sam", roles=[Role.REFERRER])
    TOTPDeviceFactory(user=person)
    return person


def _timeout_now(page, settings) -> None:
    """Start a fresh idle period, then shorten the timeout for this test."""
    page.evaluate(
        """async () => {
            const form = document.querySelector("form[data-session-stay]");
            await fetch(form.action, {method: "POST", body: new FormData(form)});
        }"""
    )
    settings.SESSION_IDLE_TIMEOUT = TIMEOUT
    settings.SESSION_IDLE_WARNING = WARNING


def test_warned_kept_signed_in_then_signed_out_with_answers_kept(
    page, live_server, referrer, settings
):
    sign_in(page, live_server.url, referrer)
    _timeout_now(page, settings)
    page.get_by_role("link", name="Referrals", exact=True).click()
    page.get_by_role("button", name="Make a referral").click()
    page.get_by_role("link", name="Eligibility").click()
    expect_section(page, "Eligibility")
    section_url = page.url

    # The warning: a modal dialog with the focus on "Stay signed in".
    dialog = page.get_by_role("dialog", name="You’ll be signed out soon")
    expect(dialog).to_be_visible(timeout=WAIT_MS)
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    expect(dialog).to_contain_text(
        re.compile(r"You will be signed out in \d+ seconds?\.")
    )
    expect(dialog).to_contain_text("not done anything for 12 seconds")
    expect(dialog).to_contain_text("we will save the answers on this page first")
    expect(dialog.locator("[aria-live=polite]")).to_have_text(
        re.compile(r"^You will be signed out in .+\.$")
    )
    assert_accessible(page)
    screenshot(page, "session-timeout-warning")

    # "Stay signed in": the dialog goes, and the session goes on for a whole
    # timeout more, so the warning comes back rather than the sign-in page.
    stay.click()
    expect(dialog).to_be_hidden()
    expect(dialog).to_be_visible(timeout=WAIT_MS)
    assert page.url == section_url

    # Escape also means "stay signed in".
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(section_url)

    # Typing, then nothing: the page saves the answers as it signs out.
    choose(page, VULNERABLE, "A victim of anti-social behaviour")
    choose(page, VULNERABLE, "A witness")
    page.get_by_label("Why does this case need a multi-agency approach?").fill(REASON)
    expect(page).to_have_url(re.compile(r"/sign-in/\?"), timeout=WAIT_MS * 2)
    banner = page.get_by_role("region", name="Important")
    expect(banner).to_contain_text(
        "You were signed out because you had not done anything for 12 seconds."
    )
    expect(banner).to_contain_text("We saved what you were typing in ‘Eligibility’.")
    assert_accessible(page)
    screenshot(page, "session-timeout-signed-out")
    answers = ReferralDraft.objects.get().answers["eligibility"]
    assert answers["multi_agency_reason"] == [REASON]
    assert sorted(answers["vulnerable"]) == ["victim", "witness"]

    # Signing in again leads back to the section, with the answers there.
    settings.SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    settings.SESSION_IDLE_WARNING = timedelta(minutes=2)
    page.get_by_label("Username").fill(referrer.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    # The first sign-in used this half-minute's code; the next one is accepted.
    enter_security_code(page, current_code(referrer.totpdevice_set.get(), offset=1))
    expect_section(page, "Eligibility")
    assert page.url == section_url
    expect(
        page.get_by_label("Why does this case need a multi-agency approach?")
    ).to_have_value(REASON)
    vulnerable = group(page, VULNERABLE)
    expect(vulnerable.get_by_label("A victim of anti-social behaviour")).to_be_checked()
    expect(vulnerable.get_by_label("A witness")).to_be_checked()
