"""A coordinator schedules a meeting, puts a case on the agenda inviting another
agency, and issues the papers; that agency's referrer downloads its pack.
In Chromium, with axe-core on every page on the way."""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.models import Role
from meetings.models import Meeting, MeetingPack, MeetingStatus
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.meetings import accepted
from tests.factories.referrals import submitted_referral

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_section, fill_date, group, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people(db):
    housing = OrganisationFactory(name="Housing")
    police = OrganisationFactory(name="Police")
    boss = UserFactory(first_name="Chris", last_name="Coordinator",
                       roles=[Role.COORDINATOR])  # fmt: skip
    officer = UserFactory(first_name="Petra", last_name="Constable",
                          organisation=police, roles=[Role.REFERRER])  # fmt: skip
    for person in (boss, officer):
        TOTPDeviceFactory(user=person)
    referral = accepted(
        submitted_referral(UserFactory(organisation=housing, roles=[Role.REFERRER])),
        boss,
    )
    return {"boss": boss, "officer": officer, "referral": referral}


def test_coordinator_builds_a_meeting_and_an_agency_downloads_its_pack(
    page, browser, browser_context_args, live_server, people, tmp_path
):
    referral = people["referral"]
    sign_in(page, live_server.url, people["boss"])
    page.get_by_role("link", name="Meetings", exact=True).click()
    expect_section(page, "CMARAC meetings")
    page.get_by_role("link", name="Schedule a meeting").click()
    expect_section(page, "Schedule a meeting")

    # A start time that is not a time first: the error, and nothing lost.
    day = timezone.localdate() + timedelta(days=28)
    group(page, "What kind of meeting is it?").get_by_label("Full meeting").check()
    fill_date(page, "Date of the meeting", str(day.day), str(day.month), str(day.year))
    page.get_by_label("Start time").fill("25:00")
    page.get_by_label("Where is the meeting?").fill("Committee room 2, Town Hall")
    page.get_by_role("button", name="Schedule the meeting").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Start time")).to_have_accessible_description(
        re.compile("Enter the start time as hours and minutes")
    )
    expect(page.get_by_label("Where is the meeting?")).to_have_value(
        "Committee room 2, Town Hall"
    )
    assert_accessible(page)
    screenshot(page, "meeting-schedule-error")
    page.get_by_label("Start time").fill("10:00")
    page.get_by_role("button", name="Schedule the meeting").click()

    meeting = Meeting.objects.get()
    expect_section(page, str(meeting))
    assert meeting.chair == people["boss"]

    # The agenda builder: add the Housing case, inviting Police.
    page.get_by_label("Case to add").select_option(
        label=f"{referral.reference}, from Housing, risk: High"
    )
    invited = group(page, "Which organisations are invited to this case?")
    expect(invited).to_contain_text("The referring organisation is always invited")
    invited.get_by_label("Police").check()
    page.get_by_role("button", name="Add to the agenda").click()
    expect(page.get_by_text(f"{referral.reference} is on the agenda.")).to_be_visible()
    agenda = page.locator("table").first
    expect(agenda).to_contain_text("Housing, Police")
    assert_accessible(page)
    screenshot(page, "meeting-agenda")

    page.get_by_role("link", name="Issue papers").click()
    expect_section(page, "Issue papers for 1 case to 2 organisations?")
    page.get_by_role("button", name="Issue papers").click()
    expect(page.get_by_role("heading", name="Packs")).to_be_visible()
    assert_accessible(page)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.PAPERS_ISSUED
    assert MeetingPack.objects.filter(meeting=meeting).count() == 2
    expect(page.get_by_role("link", name=re.compile("^Police"))).to_be_visible()

    # Police's referrer, in a browser of their own.
    context = browser.new_context(**browser_context_args, accept_downloads=True)
    other = context.new_page()
    sign_in(other, live_server.url, people["officer"])
    other.get_by_role("link", name="Meetings", exact=True).click()
    expect_section(other, "CMARAC meetings")
    other.get_by_role("link", name=str(meeting)).click()
    expect_section(other, str(meeting))
    expect(other.get_by_role("link", name=referral.reference)).to_be_visible()
    expect(other.get_by_text("Add a case to the agenda")).to_have_count(0)
    with other.expect_download() as info:
        other.get_by_role("link", name="Download your meeting pack (PDF)").click()
    download = info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    reader = PdfReader(io.BytesIO(Path(saved).read_bytes()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert referral.reference in text
    assert "Downloaded by Petra Constable, Police" in text
    context.close()
