"""A coordinator schedules a meeting, puts a case on the agenda inviting another
agency, and issues the papers; that agency's referrer downloads its pack. Then
every form of a meeting, filled in by clicking and typing, saved, and read back
from the database and a reloaded page. In Chromium, with axe-core on every page
on the way."""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pypdf import PdfReader

from accounts.models import Role
from audit.models import AuditEvent
from meetings.models import (
    Action,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingPack,
    MeetingStatus,
)
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.meetings import accepted, started
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

    # The agenda builder: add the Housing case, listed as waiting, inviting Police.
    cases = group(page, "Which case do you want to add?")
    expect(cases).to_contain_text("The one case waiting for a meeting")
    listed = cases.get_by_label(referral.reference, exact=True)
    expect(listed).to_have_accessible_description("From Housing, risk: High")
    listed.check()
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
    # The pack is refused until the officer confirms the confidentiality
    # statement for this meeting, which they do from the meeting page.
    other.get_by_role("link", name="Confirm the confidentiality statement").click()
    expect_section(other, "Confidentiality statement")
    assert_accessible(other)
    other.get_by_label(
        "I confirm the confidentiality statement for this meeting"
    ).check()
    other.get_by_role("button", name="Confirm").click()
    expect_section(other, str(meeting))
    expect(other.get_by_text(re.compile(r"^Confirmed \d"))).to_be_visible()
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


# Every form of a meeting, filled in as a person would ----------------------------


def _reloaded(page) -> None:
    """Load the page afresh (what the server stores, not what was typed), then
    check it with axe-core."""
    page.reload()
    assert_accessible(page)


def _invited(item) -> list[str]:
    return sorted(item.invited.values_list("name", flat=True))


def _changes() -> list[str]:
    """Audit actions other than reads: what saving changed."""
    return list(
        AuditEvent.objects.exclude(action="read").values_list("action", flat=True)
    )


@pytest.fixture
def agencies(people):
    return {name: OrganisationFactory(name=name) for name in
            ("Fire", "Health", "Children's services")}  # fmt: skip


def test_coordinator_fills_in_every_meeting_form(page, live_server, people, agencies):
    referral, boss = people["referral"], people["boss"]
    sign_in(page, live_server.url, boss)

    # Scheduling --------------------------------------------------------------
    page.goto(f"{live_server.url}/meetings/new/")
    expect_section(page, "Schedule a meeting")
    day = timezone.localdate() + timedelta(days=21)
    deadline = day - timedelta(days=7)
    group(page, "What kind of meeting is it?").get_by_label("Full meeting").check()
    fill_date(page, "Date of the meeting", str(day.day), str(day.month), str(day.year))
    page.get_by_label("Start time").press_sequentially("14:30")
    page.get_by_label("Where is the meeting?").press_sequentially(
        "Room 4, Civic Centre"
    )
    page.get_by_label("Online meeting link").press_sequentially("meet.example.org/cm")
    page.get_by_label("Chair").select_option(label="Chris Coordinator")
    fill_date(page, "Referral deadline (optional)", str(deadline.day),
              str(deadline.month), str(deadline.year))  # fmt: skip
    page.get_by_role("button", name="Schedule the meeting").click()
    meeting = Meeting.objects.get()
    expect_section(page, str(meeting))
    _reloaded(page)
    local = timezone.localtime(meeting.starts_at)
    assert (local.date(), local.hour, local.minute) == (day, 14, 30)
    assert meeting.location == "Room 4, Civic Centre"
    assert meeting.online_link == "https://meet.example.org/cm"
    assert (meeting.chair, meeting.referral_deadline) == (boss, deadline)
    assert meeting.kind == "full"
    facts = page.locator(".govuk-summary-list").first
    expect(facts).to_contain_text("Room 4, Civic Centre")
    expect(facts).to_contain_text("Chris Coordinator")
    expect(facts).to_contain_text(f"{deadline.day} {deadline:%B %Y}")
    expect(page.get_by_role("link", name="Join the meeting online")).to_have_attribute(
        "href", "https://meet.example.org/cm"
    )

    # Adding a case by its reference, two agencies ticked ------------------------
    # A mistyped reference first: the error by the box, and nothing lost.
    cases = group(page, "Which case do you want to add?")
    box = cases.get_by_label("Case reference")
    cases.get_by_label("Another case: enter its reference").check()
    expect(box).to_have_accessible_description("For example, CM-2026-0005")
    box.press_sequentially("CM-2026-9999")
    invited = group(page, "Which organisations are invited to this case?")
    invited.get_by_label("Police").check()
    page.get_by_role("button", name="Add to the agenda").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".govuk-error-summary")).to_be_focused()
    mistake = "There is no case CM-2026-9999 that you can see: check the reference"
    expect(box).to_have_accessible_description(re.compile(mistake))
    expect(box).to_have_value("CM-2026-9999")
    expect(invited.get_by_label("Police")).to_be_checked()
    assert_accessible(page)
    screenshot(page, "meeting-agenda-reference-error")
    page.locator(".govuk-error-summary").get_by_role("link", name=mistake).click()
    expect(box).to_be_focused()
    box.fill("")
    box.press_sequentially(referral.reference.lower())
    invited.get_by_label("Fire").check()
    page.get_by_label("Time for the case, in minutes").fill("")
    page.get_by_label("Time for the case, in minutes").press_sequentially("20")
    page.get_by_role("button", name="Add to the agenda").click()
    expect(page.get_by_text(f"{referral.reference} is on the agenda.")).to_be_visible()
    _reloaded(page)
    item = AgendaItem.objects.get(meeting=meeting)
    assert _invited(item) == ["Fire", "Housing", "Police"]
    assert item.slot_minutes == 20
    agenda = page.locator("#agenda + .app-table-container table")
    expect(agenda).to_contain_text("Fire, Housing, Police")
    expect(agenda).to_contain_text("20 minutes")

    # Who is invited: saved unchanged, then changed -------------------------------
    change = page.get_by_role(
        "link", name=f"Change who is invited to {referral.reference}"
    )
    change.click()
    expect_section(page, f"Who is invited to {referral.reference}")
    form = group(page, "Which other organisations are invited to this case?")
    expect(form.get_by_label("Police")).to_be_checked()
    expect(form.get_by_label("Fire")).to_be_checked()
    expect(form.get_by_label("Health")).not_to_be_checked()
    expect(form.get_by_label("Housing")).to_have_count(0)  # referred it: always in
    before = _changes()
    page.get_by_role("button", name="Save who is invited").click()
    expect(
        page.get_by_text(f"Invitations to {referral.reference} are saved.")
    ).to_be_visible()
    _reloaded(page)
    assert _invited(item) == ["Fire", "Housing", "Police"]
    assert _changes() == before
    expect(agenda).to_contain_text("Fire, Housing, Police")

    change.click()
    form.get_by_label("Fire").uncheck()
    form.get_by_label("Health").check()
    form.get_by_label("Children's services").check()
    page.get_by_role("button", name="Save who is invited").click()
    expect(
        page.get_by_text(f"Invitations to {referral.reference} are saved.")
    ).to_be_visible()
    _reloaded(page)
    assert _invited(item) == ["Children's services", "Health", "Housing", "Police"]
    expect(agenda).to_contain_text("Children's services, Health, Housing, Police")
    change.click()
    for name in ("Police", "Health", "Children's services"):
        expect(form.get_by_label(name)).to_be_checked()
    expect(form.get_by_label("Fire")).not_to_be_checked()
    page.get_by_role("link", name="Cancel").click()

    # Papers out, and the meeting day comes ---------------------------------------
    page.get_by_role("link", name="Issue papers").click()
    expect_section(page, "Issue papers for 1 case to 4 organisations?")
    page.get_by_role("button", name="Issue papers").click()
    expect(page.get_by_role("heading", name="Packs")).to_be_visible()
    started(meeting)

    # Attendance ----------------------------------------------------------------
    page.get_by_role("link", name="Record the meeting").click()
    expect_section(page, "Record the meeting")
    page.get_by_label("Organisation").select_option(label="Police")
    page.get_by_label("Name", exact=True).press_sequentially("Sam Sergeant")
    group(page, "Attendance").get_by_label("Present").check()
    page.get_by_label("They confirmed the confidentiality statement").check()
    page.get_by_role("button", name="Save to the register").click()
    expect(page.get_by_text("Sam Sergeant is on the register.")).to_be_visible()
    _reloaded(page)
    row = Attendance.objects.get(meeting=meeting)
    assert (row.organisation.name, row.name, row.status) == (
        "Police",
        "Sam Sergeant",
        "present",
    )
    assert row.confidentiality_confirmed_at is not None
    register = page.locator("#register + .app-table-container table")
    expect(register).to_contain_text("Sam Sergeant")
    expect(register).to_contain_text("Present")
    expect(register).to_contain_text(
        f"Yes, at {timezone.localtime(row.confidentiality_confirmed_at):%H:%M}"
    )
    # Changing the row shows what is stored; saving it unchanged changes nothing.
    page.get_by_role("link", name="Change Sam Sergeant, Police").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Sam Sergeant")
    expect(group(page, "Attendance").get_by_label("Present")).to_be_checked()
    before = _changes()
    page.get_by_role("button", name="Save to the register").click()
    expect(page.get_by_text("Sam Sergeant is on the register.")).to_be_visible()
    assert _changes() == before
    assert Attendance.objects.get(pk=row.pk).confidentiality_confirmed_at == (
        row.confidentiality_confirmed_at
    )

    # Held once it has started (recording then rebuilds no packs in the request).
    page.get_by_role("button", name="Mark the meeting as held").click()
    expect_section(page, "Minutes")
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.HELD
    page.get_by_role("link", name="Back to recording the meeting").click()

    # The case: discussion, risk after it, and the review date ----------------------
    cases = page.locator("#cases + .app-table-container table")
    cases.get_by_role("link", name=referral.reference).click()
    expect_section(page, referral.reference)
    page.get_by_label("Discussion summary").press_sequentially(
        "Police and health shared recent contact."
    )
    group(page, "Risk level after discussion").get_by_label("Medium").check()
    page.get_by_label("Decisions").press_sequentially("Refer to the IDVA service.")
    page.get_by_role("button", name="Save the discussion").click()
    review = meeting.day + timedelta(days=28)
    expect(
        page.get_by_text(f"Next review: {review.day} {review:%B %Y}.")
    ).to_be_visible()
    _reloaded(page)
    item.refresh_from_db()
    assert item.discussion == "Police and health shared recent contact."
    assert (item.risk_after, item.next_review) == ("medium", review)
    assert item.decisions == "Refer to the IDVA service."
    expect(page.get_by_text(re.compile(r"^Next review:"))).to_contain_text(
        f"{review.day} {review:%B %Y}"
    )
    expect(page.get_by_label("Discussion summary")).to_have_value(
        "Police and health shared recent contact."
    )
    expect(
        group(page, "Risk level after discussion").get_by_label("Medium")
    ).to_be_checked()

    # An action ------------------------------------------------------------------
    due = timezone.localdate() + timedelta(days=10)
    page.get_by_label("Which organisation owns the action?").select_option(
        label="Health"
    )
    page.get_by_label("Named officer").press_sequentially("Dr Nadia Nurse")
    page.get_by_label("Action", exact=True).press_sequentially("Review the GP records.")
    fill_date(page, "Due date", str(due.day), str(due.month), str(due.year))
    page.get_by_role("button", name="Add the action").click()
    expect(page.get_by_text("The action for Health is added.")).to_be_visible()
    _reloaded(page)
    action = Action.objects.get(agenda_item=item)
    assert (action.owner.name, action.officer, action.due) == (
        "Health",
        "Dr Nadia Nurse",
        due,
    )
    assert action.description == "Review the GP records."
    actions = page.locator("#actions + .app-table-container table")
    expect(actions).to_contain_text("Review the GP records.")
    expect(actions).to_contain_text("Dr Nadia Nurse")

    # The minutes -------------------------------------------------------------------
    page.get_by_role("link", name="Back to recording the meeting").click()
    page.get_by_role("link", name="Write and issue the minutes").click()
    expect_section(page, "Minutes")
    page.get_by_label("General minutes").press_sequentially(
        "Apologies from Fire.\nNo other business."
    )
    page.get_by_role("button", name="Save the minutes").click()
    expect(page.get_by_text("The general minutes are saved.")).to_be_visible()
    _reloaded(page)
    meeting.refresh_from_db()
    assert meeting.general_minutes == "Apologies from Fire.\nNo other business."
    expect(page.get_by_label("General minutes")).to_have_value(
        "Apologies from Fire.\nNo other business."
    )
    page.get_by_role("button", name="Issue minutes").click()
    expect(page.get_by_text("The minutes are issued.")).to_be_visible()
    _reloaded(page)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.MINUTES_ISSUED
    expect(page.get_by_role("link", name="Health (PDF)")).to_be_visible()

    # Issued: who is invited is final, and the page no longer offers to change it.
    page.goto(f"{live_server.url}{meeting.get_absolute_url()}")
    assert_accessible(page)
    expect(
        page.get_by_role("link", name=re.compile("^Change who is invited"))
    ).to_have_count(0)
    expect(page.get_by_role("button", name="Add to the agenda")).to_have_count(0)
