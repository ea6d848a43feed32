"""Invited people reply to a meeting invitation for themselves: a police
officer sends apologies naming a colleague as deputy (first naming one with
"Attending", which is refused by the field), the deputy finds the meeting
through What's new, and a housing officer says they will attend and confirms
the confidentiality statement. The coordinator sees every reply on the
meeting page and the register shows the times. Before papers are issued, a
police officer follows the invitation from What's new and sends apologies
from the meeting page, which offers no case or pack yet. In Chromium, with
axe-core on every page on the way."""

import re

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from playwright.sync_api import expect

from accounts.models import Role
from meetings.models import Attendance, Reply
from meetings.services import papers_issue
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.meetings import accepted, meeting, on_agenda
from tests.factories.referrals import submitted_referral

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_section, group, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ATTEND = "Will you attend?"


def _person(first, last, role=Role.REFERRER, **fields):
    person = UserFactory(first_name=first, last_name=last, roles=[role], **fields)
    TOTPDeviceFactory(user=person)
    return person


def _shown(moment) -> str:
    """A time as the portal's pages show it (DATETIME_FORMAT)."""
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")


@pytest.fixture
def world(db):
    housing = OrganisationFactory(name="Housing")
    police = OrganisationFactory(name="Police")
    boss = _person("Chris", "Coordinator", Role.COORDINATOR)
    hana = _person("Hana", "Housing", organisation=housing)
    petra = _person("Petra", "Constable", organisation=police)
    upcoming = meeting(boss)
    on_agenda(upcoming, accepted(submitted_referral(hana), boss), [police], boss)
    papers_issue(meeting=upcoming, user=boss)
    # Joins Police after the invitations went out: the deputy's invitation is
    # the first they hear of the meeting.
    dev = _person("Dev", "Sergeant", organisation=police)
    return {"boss": boss, "hana": hana, "petra": petra, "dev": dev,
            "meeting": upcoming}  # fmt: skip


def _open_meeting(page, meeting) -> None:
    page.get_by_role("navigation", name="Menu").get_by_role(
        "link", name="Meetings", exact=True
    ).click()
    expect_section(page, "CMARAC meetings")
    page.get_by_role("link", name=str(meeting)).click()
    expect_section(page, str(meeting))


def _your_reply(page):
    return page.locator("#your-attendance + .govuk-summary-list").locator(
        ".govuk-summary-list__row", has_text="Your reply"
    )


def test_apologies_with_a_deputy_and_a_confirmed_attendance(
    page, browser, browser_context_args, live_server, world
):
    meeting, petra, dev = world["meeting"], world["petra"], world["dev"]

    # The police officer sends apologies and names a deputy ----------------------
    sign_in(page, live_server.url, petra)
    _open_meeting(page, meeting)
    expect(_your_reply(page)).to_contain_text("Not replied")
    page.get_by_role("link", name="Reply to the invitation").click()
    expect_section(page, "Reply to the invitation")
    # A deputy named with "Attending": refused by the field, the choice kept.
    group(page, ATTEND).get_by_label("Attending").check()
    page.get_by_label("Deputy (optional)").select_option(label="Dev Sergeant")
    page.get_by_role("button", name="Send your reply").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    message = "Name a deputy only when you send apologies"
    expect(page.get_by_label("Deputy (optional)")).to_have_accessible_description(
        re.compile(message)
    )
    expect(page.get_by_label("Deputy (optional)")).to_have_value(str(dev.pk))
    expect(group(page, ATTEND).get_by_label("Attending")).to_be_checked()
    assert_accessible(page)
    summary.get_by_role("link", name=message).click()
    expect(page.get_by_label("Deputy (optional)")).to_be_focused()
    assert not Attendance.objects.exists()

    group(page, ATTEND).get_by_label("Apologies").check()
    page.get_by_role("button", name="Send your reply").click()
    expect_section(page, str(meeting))
    expect(page.get_by_text("Your reply is saved.")).to_be_visible()
    page.reload()
    assert_accessible(page)
    apologies = Attendance.objects.get(user=petra)
    assert apologies.reply == Reply.APOLOGIES
    expect(_your_reply(page)).to_contain_text(
        f"Apologies, {_shown(apologies.replied_at)}"
    )
    deputy_row = Attendance.objects.get(user=dev)
    assert deputy_row.deputy_for == apologies
    # Changing the reply shows what is stored.
    page.get_by_role("link", name="Change your reply").click()
    expect(group(page, ATTEND).get_by_label("Apologies")).to_be_checked()
    expect(page.get_by_label("Deputy (optional)")).to_have_value(str(dev.pk))

    # The deputy finds the meeting through What's new ----------------------------
    context = browser.new_context(**browser_context_args)
    deputy = context.new_page()
    sign_in(deputy, live_server.url, dev)
    deputy.get_by_role("link", name="What's new (1)").click()
    expect_section(deputy, "What's new")
    deputy.get_by_role("link", name=f"Invitation: {meeting}").click()
    expect_section(deputy, str(meeting))
    expect(_your_reply(deputy)).to_contain_text("You are the deputy of Petra Constable")
    screenshot(deputy, "meeting-deputy")
    context.close()

    # The housing officer will attend, and confirms confidentiality ---------------
    context = browser.new_context(**browser_context_args)
    other = context.new_page()
    sign_in(other, live_server.url, world["hana"])
    _open_meeting(other, meeting)
    other.get_by_role("link", name="Reply to the invitation").click()
    expect_section(other, "Reply to the invitation")
    group(other, ATTEND).get_by_label("Attending").check()
    other.get_by_role("button", name="Send your reply").click()
    expect(other.get_by_text("Your reply is saved.")).to_be_visible()
    other.get_by_role("link", name="Confirm the confidentiality statement").click()
    expect_section(other, "Confidentiality statement")
    other.get_by_label(
        "I confirm the confidentiality statement for this meeting"
    ).check()
    other.get_by_role("button", name="Confirm").click()
    expect_section(other, str(meeting))
    other.reload()
    assert_accessible(other)
    attending = Attendance.objects.get(user=world["hana"])
    assert attending.reply == Reply.ATTENDING
    assert attending.confidentiality_confirmed_at is not None
    expect(_your_reply(other)).to_contain_text(
        f"Attending, {_shown(attending.replied_at)}"
    )
    expect(other.get_by_text(re.compile(r"^Confirmed \d"))).to_have_text(
        f"Confirmed {_shown(attending.confidentiality_confirmed_at)}"
    )
    context.close()

    # The coordinator sees every reply, and the register the times ------------------
    context = browser.new_context(**browser_context_args)
    boss = context.new_page()
    sign_in(boss, live_server.url, world["boss"])
    _open_meeting(boss, meeting)
    replies = boss.locator("#replies + .app-table-container table")

    def row(name):
        return replies.get_by_role("row", name=re.compile(f"^{name}"))

    expect(row("Petra Constable")).to_contain_text(
        f"Apologies, {_shown(apologies.replied_at)}"
    )
    expect(row("Dev Sergeant")).to_contain_text("Deputy for Petra Constable")
    expect(row("Hana Housing")).to_contain_text(
        f"Attending, {_shown(attending.replied_at)}"
    )
    expect(row("Hana Housing")).to_contain_text(
        _shown(attending.confidentiality_confirmed_at)
    )
    screenshot(boss, "meeting-replies")
    boss.get_by_role("link", name="Record the meeting").click()
    expect_section(boss, "Record the meeting")
    register = boss.locator("#register + .app-table-container table")
    hana = register.get_by_role("row", name=re.compile("^Hana Housing"))
    expect(hana).to_contain_text("Attending (their reply)")
    confirmed = timezone.localtime(attending.confidentiality_confirmed_at)
    expect(hana).to_contain_text(f"Yes, at {confirmed:%H:%M}")
    expect(
        register.get_by_role("row", name=re.compile("^Petra Constable"))
    ).to_contain_text("Apologies (their reply)")
    context.close()


@pytest.fixture
def planned_world(db):
    """A meeting whose papers are not issued: Police are invited to Housing's
    case, and the invitation has reached What's new."""
    housing = OrganisationFactory(name="Housing")
    police = OrganisationFactory(name="Police")
    boss = _person("Chris", "Coordinator", Role.COORDINATOR)
    hana = _person("Hana", "Housing", organisation=housing)
    petra = _person("Petra", "Constable", organisation=police)
    dev = _person("Dev", "Sergeant", organisation=police)
    upcoming = meeting(boss)
    referral = accepted(submitted_referral(hana), boss)
    on_agenda(upcoming, referral, [police], boss)
    return {"petra": petra, "dev": dev, "meeting": upcoming,
            "referral": referral}  # fmt: skip


def test_apologies_from_the_invitation_before_papers_are_issued(
    page, live_server, planned_world
):
    """Issue 24: the invitation's link opened "Page not found" until papers
    were issued, though it asks for a reply."""
    meeting, petra = planned_world["meeting"], planned_world["petra"]
    sign_in(page, live_server.url, petra)
    # The case shared with Police is news too.
    page.get_by_role("link", name=re.compile(r"^What's new \(\d\)")).click()
    expect_section(page, "What's new")
    page.get_by_role("link", name=f"Invitation: {meeting}").click()
    expect_section(page, str(meeting))
    expect(page.locator("#papers-not-issued")).to_contain_text(
        "Papers are not issued yet. 1 case on the agenda involves your organisation."
    )
    expect(page.get_by_text(planned_world["referral"].reference)).to_have_count(0)
    expect(page.get_by_role("link", name=re.compile("pack"))).to_have_count(0)
    expect(_your_reply(page)).to_contain_text("Not replied")

    page.get_by_role("link", name="Reply to the invitation").click()
    expect_section(page, "Reply to the invitation")
    group(page, ATTEND).get_by_label("Apologies").check()
    page.get_by_label("Deputy (optional)").select_option(label="Dev Sergeant")
    page.get_by_role("button", name="Send your reply").click()
    expect_section(page, str(meeting))
    expect(page.get_by_text("Your reply is saved.")).to_be_visible()

    page.reload()
    assert_accessible(page)
    apologies = Attendance.objects.get(user=petra)
    assert apologies.reply == Reply.APOLOGIES
    assert Attendance.objects.get(user=planned_world["dev"]).deputy_for == apologies
    expect(_your_reply(page)).to_contain_text(
        f"Apologies, {_shown(apologies.replied_at)}"
    )
    expect(page.get_by_role("link", name=re.compile("pack"))).to_have_count(0)
    screenshot(page, "meeting-before-papers")

    # The list of meetings says what they are waiting for.
    page.get_by_role("link", name="Back to meetings").click()
    expect_section(page, "CMARAC meetings")
    expect(
        page.get_by_role("row", name=re.compile(re.escape(str(meeting))))
    ).to_contain_text("Papers not issued yet")
