"""The main journeys by keyboard alone: sign in, move around with the skip link
and the menu, search, and share a file, never touching the mouse. Focus must
always be somewhere a sighted keyboard user can see."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from documents.models import Share
from tests.conftest import current_code
from tests.factories import (
    TEST_PASSWORD,
    OrganisationFactory,
    TOTPDeviceFactory,
    UserFactory,
)
from tests.factories.guidance import guidance

from .conftest import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def focused(page) -> str:
    """The focused element's accessible text (label, value or content)."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el) return "";
            const label = el.labels && el.labels[0] ? el.labels[0].innerText : "";
            return (label || el.getAttribute("aria-label") || el.innerText
                    || el.value || "").trim();
        }"""
    )


def tab_to(page, text: str, limit: int = 60) -> None:
    """Press Tab until the element whose text starts with ``text`` has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page).startswith(text):
            # A visible focus style: GOV.UK's yellow outline or box-shadow.
            style = page.evaluate(
                "() => { const s = getComputedStyle(document.activeElement); return"
                " s.outlineStyle + '|' + s.boxShadow + '|' + s.backgroundColor; }"
            )
            assert style != "none|none|rgba(0, 0, 0, 0)", (text, style)
            return
    raise AssertionError(f"Tab never reached {text!r}; last was {focused(page)!r}")


@pytest.fixture
def person(db):
    police = OrganisationFactory(name="Police")
    OrganisationFactory(name="Housing")
    user = UserFactory(first_name="Kim", organisation=police, roles=[Role.REFERRER])
    TOTPDeviceFactory(user=user)
    guidance(
        title="Cuckooing: what to look for",
        body=[("text", "<p>Signs of cuckooing at a tenant's home.</p>")],
    )
    return user


def test_sign_in_search_and_share_by_keyboard(page, live_server, person, tmp_path):
    page.goto(f"{live_server.url}/sign-in/")
    tab_to(page, "Skip to main content")
    tab_to(page, "Username")
    page.keyboard.type(person.username)
    tab_to(page, "Password")
    page.keyboard.type(TEST_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Security code")).to_be_visible()
    tab_to(page, "Security code")
    page.keyboard.type(current_code(person.totpdevice_set.get()))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Kim")

    # The skip link takes focus past the header and menu.
    tab_to(page, "Skip to main content")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main-content$"))

    tab_to(page, "Search")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    tab_to(page, "Search guidance, agreements and meeting resources")
    page.keyboard.type("cuckooing")
    page.keyboard.press("Enter")
    expect(page.get_by_text("1 result for")).to_be_visible()
    tab_to(page, "Cuckooing: what to look for")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Cuckooing: what to look for"
    )
    assert_accessible(page)

    # Share a file: the form, its radios and checkboxes, all from the keyboard.
    notes = tmp_path / "notes.txt"
    notes.write_text("Seen on Tuesday.\n")
    page.goto(f"{live_server.url}/files/share/")
    page.get_by_label("Files to share").set_input_files(str(notes))  # the OS dialog
    tab_to(page, "Named organisations")
    page.keyboard.press("Space")
    tab_to(page, "Housing")
    page.keyboard.press("Space")
    tab_to(page, "Share the files")
    page.keyboard.press("Enter")
    expect(page.get_by_text("1 file shared with Housing.")).to_be_visible()
    assert Share.objects.get().recipients.get().organisation.name == "Housing"
