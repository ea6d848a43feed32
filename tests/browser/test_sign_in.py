"""Signing in as a person does: password, then a security code, in Chromium.

Each journey checks what is on the screen and runs axe-core on the pages it
passes through.
"""

import re

import pytest
from playwright.sync_api import expect

from accounts.services import backup_codes_generate
from tests.conftest import current_code
from tests.factories import TEST_PASSWORD, UserFactory

from .conftest import assert_accessible, code_from_setup_key, screenshot

# live_server needs committed data, so each test is transactional. The flush
# after each one would also remove the home page, Site and groups that the
# migrations made; tests/conftest.py puts them back (Django's serialized
# rollback would only restore them before the next transactional test).
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WRONG_CODE_MESSAGE = "That code did not work"
ALREADY_USED_MESSAGE = "That code has already been used"


def enter_password(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Continue").click()


def enter_security_code(page, code: str) -> None:
    page.get_by_label("Security code").fill(code)
    page.get_by_role("button", name="Continue").click()


def heading(page):
    return page.get_by_role("heading", level=1)


def expect_home_page(page, base_url: str, person) -> None:
    expect(page).to_have_url(f"{base_url}/")
    expect(heading(page)).to_have_text(f"Welcome, {person.first_name}")


@pytest.fixture
def no_throttling(settings):
    """Wrong codes here are on purpose; no wait before the next attempt."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.BACKUP_CODE_THROTTLE_FACTOR = 0


class TestSignInWithAuthenticator:
    def test_password_then_code_reaches_the_home_page(self, page, live_server, user):
        page.goto(f"{live_server.url}/sign-in/")
        expect(heading(page)).to_have_text("Sign in to the CMARAC partner portal")
        assert_accessible(page)

        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Continue").click()
        expect(page).to_have_url(re.compile(r"/sign-in/security-code/$"))
        expect(heading(page)).to_have_text("Enter your security code")
        assert_accessible(page)

        enter_security_code(page, current_code(user.totpdevice_set.get()))
        expect_home_page(page, live_server.url, user)
        organisation = user.organisation.name
        expect(page.get_by_role("banner")).to_contain_text(user.get_full_name())
        expect(page.get_by_role("banner")).to_contain_text(organisation)
        expect(page.get_by_role("main")).to_contain_text(organisation)
        expect(page.get_by_text("OFFICIAL-SENSITIVE", exact=True)).to_be_visible()
        assert_accessible(page)
        screenshot(page, "home")

    def test_wrong_code_is_explained_and_links_to_the_field(
        self, page, live_server, user, no_throttling
    ):
        enter_password(page, live_server.url, user.username)
        # A code from ten minutes ago: well outside the allowed clock drift.
        enter_security_code(page, current_code(user.totpdevice_set.get(), -20))

        expect(page).to_have_title(re.compile(r"^Error: "))
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_contain_text("There is a problem")
        # GOV.UK Frontend moves focus to the summary so it is read out first.
        expect(summary).to_be_focused()
        field = page.get_by_label("Security code")
        expect(field).to_have_accessible_description(re.compile(WRONG_CODE_MESSAGE))
        form_group = page.locator(".govuk-form-group--error").filter(has=field)
        expect(form_group.locator(".govuk-error-message")).to_contain_text(
            WRONG_CODE_MESSAGE
        )
        assert_accessible(page)

        summary.get_by_role("link", name=re.compile(WRONG_CODE_MESSAGE)).click()
        expect(field).to_be_focused()

    def test_backup_code_works_once(self, page, live_server, user, no_throttling):
        codes = backup_codes_generate(user=user)

        enter_password(page, live_server.url, user.username)
        enter_security_code(page, codes[0])
        expect_home_page(page, live_server.url, user)

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You have signed out.")).to_be_visible()

        enter_password(page, live_server.url, user.username)
        enter_security_code(page, codes[0])
        expect(page).to_have_url(re.compile(r"/sign-in/security-code/$"))
        expect(page.locator(".govuk-error-summary")).to_contain_text(
            ALREADY_USED_MESSAGE
        )

        # The refusal is about that code, not the person: the next one works.
        enter_security_code(page, codes[1])
        expect_home_page(page, live_server.url, user)


class TestAuthenticatorSetUp:
    def test_new_person_sets_up_an_app_and_saves_backup_codes(self, page, live_server):
        person = UserFactory(first_name="Kofi", roles=["Referrers"])
        enter_password(page, live_server.url, person.username)

        expect(page).to_have_url(re.compile(r"/sign-in/set-up-authenticator/$"))
        expect(heading(page)).to_have_text("Set up your authenticator app")
        expect(
            page.get_by_role("img", name="QR code for your authenticator app")
        ).to_be_visible()
        assert_accessible(page)

        page.get_by_text("I cannot scan the QR code").click()
        setup_key = page.locator("#setup-key")
        expect(setup_key).to_be_visible()
        expect(setup_key).to_have_text(re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{1,4})*$"))
        screenshot(page, "enrolment")
        code = code_from_setup_key(setup_key.inner_text())
        page.get_by_label("Code from your authenticator app").fill(code)
        page.get_by_role("button", name="Confirm and continue").click()

        expect(heading(page)).to_have_text("Your authenticator app is set up")
        backup_codes = page.get_by_role("list", name="Backup codes")
        expect(backup_codes.get_by_role("listitem")).to_have_count(10)
        assert_accessible(page)

        page.get_by_role("link", name="I have saved my backup codes").click()
        expect_home_page(page, live_server.url, person)


class TestWithoutJavaScript:
    def test_password_and_code_reach_the_home_page(
        self, new_context, live_server, user
    ):
        page = new_context(java_script_enabled=False).new_page()
        enter_password(page, live_server.url, user.username)
        enter_security_code(page, current_code(user.totpdevice_set.get()))

        expect_home_page(page, live_server.url, user)
        # The inline enhancement script never ran, so JavaScript really was off.
        expect(page.locator("body")).not_to_have_class(re.compile("js-enabled"))

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_text("You have signed out.")).to_be_visible()
