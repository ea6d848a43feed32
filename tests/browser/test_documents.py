"""A housing officer shares a file with the police; a police officer sees it
marked new and downloads it; the sender then sees who opened it and when.
In Chromium, with axe-core on every page on the way, and the upload going
through the progress-bar path (JavaScript on)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from documents.models import Share
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_section, group, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTES = "Visit on 3 November: the tenant reports people staying for days.\n"


@pytest.fixture
def people(db):
    housing = OrganisationFactory(name="Housing")
    police = OrganisationFactory(name="Police")
    sender = UserFactory(first_name="Hana", last_name="Housing",
                         organisation=housing, roles=[Role.REFERRER])  # fmt: skip
    reader = UserFactory(first_name="Petra", last_name="Constable",
                         organisation=police, roles=[Role.REFERRER])  # fmt: skip
    for person in (sender, reader):
        TOTPDeviceFactory(user=person)
    return {"sender": sender, "reader": reader}


def test_share_a_file_and_see_when_the_other_agency_opens_it(
    page, browser, browser_context_args, live_server, people, tmp_path
):
    notes = tmp_path / "visit notes.txt"
    notes.write_text(NOTES)
    sign_in(page, live_server.url, people["sender"])
    page.get_by_role("link", name="Shared files", exact=True).click()
    expect_section(page, "Shared files")
    page.get_by_role("link", name="Share files").click()
    expect_section(page, "Share files")

    # Nothing chosen: errors by each field, and the note survives.
    page.get_by_label("Note for the recipients (optional)").fill("For the panel.")
    page.get_by_role("button", name="Share the files").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()  # the swapped-in page's components started
    expect(summary).to_contain_text("Select at least one file to share")
    expect(summary).to_contain_text("Select who should receive the files")
    expect(page.get_by_label("Note for the recipients (optional)")).to_have_value(
        "For the panel."
    )
    assert_accessible(page)
    screenshot(page, "documents-share-error")

    page.get_by_label("Files to share").set_input_files(str(notes))
    group(page, "Who should receive the files?").get_by_label(
        "Named organisations"
    ).check()
    group(page, "Organisations").get_by_label("Police").check()
    page.get_by_role("button", name="Share the files").click()
    expect_section(page, "Shared files")
    expect(page.get_by_text("1 file shared with Police.")).to_be_visible()
    expect(page.get_by_text("Not opened yet by: Police.")).to_be_visible()
    assert_accessible(page)
    share = Share.objects.get()
    assert share.note == "For the panel."

    # The police officer, in a browser of their own.
    context = browser.new_context(**browser_context_args, accept_downloads=True)
    other = context.new_page()
    sign_in(other, live_server.url, people["reader"])
    other.get_by_role("link", name="Shared files", exact=True).click()
    expect_section(other, "Shared files")
    row = other.get_by_role("row", name=re.compile("visit notes.txt"))
    expect(row).to_contain_text("New")
    expect(row).to_contain_text("Housing")
    row.get_by_role("link").click()
    expect_section(other, "Shared files")
    expect(other.get_by_text("Who has opened these files")).to_have_count(0)
    with other.expect_download() as info:
        other.get_by_role("link", name="Download visit notes.txt").click()
    download = info.value
    assert download.suggested_filename == "visit notes.txt"
    saved = tmp_path / "downloaded.txt"
    download.save_as(saved)
    assert Path(saved).read_text() == NOTES
    other.get_by_role("link", name="Back to shared files").click()
    expect(
        other.get_by_role("row", name=re.compile("visit notes.txt"))
    ).not_to_contain_text("New")
    context.close()

    # The sender sees who opened it.
    page.reload()
    expect(page.get_by_role("cell", name="Petra Constable")).to_be_visible()
    expect(
        page.get_by_text("Every recipient organisation has opened it.")
    ).to_be_visible()
    assert_accessible(page)
    screenshot(page, "documents-opened")

    page.get_by_role("link", name="Recall these files").click()
    expect_section(page, "Recall these files?")
    page.get_by_label("Why are you recalling these files?").fill("Superseded")
    page.get_by_role("button", name="Recall the files").click()
    expect(page.get_by_text(re.compile("These files were recalled on"))).to_be_visible()
    assert_accessible(page)
