"""The coordinator's home runs the meeting cycle: from each panel a link
reaches the thing it lists (the next meeting, a referral waiting for
screening, one waiting for more information, an overdue action's case, a
review due, a meeting whose minutes are late). In Chromium, with axe-core on
every page reached."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from meetings.models import Action, AgendaItem, Meeting, MeetingStatus
from meetings.services import papers_issue
from portal.dates import long_date
from referrals.models import Status
from referrals.services import referral_transition
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.meetings import accepted, meeting, on_agenda
from tests.factories.referrals import submitted_referral

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_section, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cycle(db):
    housing = OrganisationFactory(name="Housing")
    police = OrganisationFactory(name="Police")
    boss = UserFactory(first_name="Chris", roles=[Role.COORDINATOR])
    TOTPDeviceFactory(user=boss)
    referrer = UserFactory(organisation=housing, roles=[Role.REFERRER])
    waiting = submitted_referral(referrer)
    asked = submitted_referral(referrer)
    for to in (Status.SCREENING, Status.INFORMATION_REQUESTED):
        asked = referral_transition(
            referral=asked, to_status=to, user=boss, expected_status=asked.status,
            reason="Which school does the child attend?",
        )  # fmt: skip
    case = accepted(submitted_referral(referrer), boss)
    # A meeting twelve days ago, held, with no minutes; the case's review,
    # set there, is past; and an action from it is overdue.
    past = meeting(boss)
    item = on_agenda(past, case, [police], boss)
    Meeting.objects.filter(pk=past.pk).update(
        status=MeetingStatus.HELD, starts_at=timezone.now() - timedelta(days=12)
    )
    review = timezone.localdate() - timedelta(days=3)
    AgendaItem.objects.filter(pk=item.pk).update(next_review=review)
    due = timezone.localdate() - timedelta(days=2)
    Action.objects.create(
        agenda_item=item, referral=case, owner=police, officer="PC Amir Khan",
        description="Visit the family with housing.", due=due,
    )  # fmt: skip
    ahead = meeting(boss, days_ahead=21)
    on_agenda(ahead, accepted(submitted_referral(referrer), boss), [police], boss)
    papers_issue(meeting=ahead, user=boss)
    past.refresh_from_db()
    return {"boss": boss, "waiting": waiting, "asked": asked, "case": case,
            "past": past, "ahead": ahead, "review": review, "due": due}  # fmt: skip


def _panel(page, title: str):
    """The list under a panel's heading ("Screening queue: 1")."""
    heading = page.get_by_role("heading", name=title)
    expect(heading).to_be_visible()
    return heading.locator("xpath=following-sibling::ul[1]")


def _follow(page, panel, link: str, heading: str) -> None:
    panel.get_by_role("link", name=link, exact=True).click()
    expect_section(page, heading)


def _home(page) -> None:
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Chris")


def test_each_panel_of_the_meeting_cycle_leads_to_its_item(page, live_server, cycle):
    sign_in(page, live_server.url, cycle["boss"])
    screenshot(page, "coordinator-home")
    waiting, asked, case = cycle["waiting"], cycle["asked"], cycle["case"]
    past, ahead = cycle["past"], cycle["ahead"]

    meetings = _panel(page, "Next meetings: 1")
    expect(meetings).to_contain_text("papers issued")
    _follow(page, meetings, str(ahead), str(ahead))
    expect(page.get_by_role("heading", name="Who has replied")).to_be_visible()
    _home(page)

    queue = _panel(page, "Screening queue: 1")
    expect(queue).to_contain_text(f"{waiting.reference} from Housing, submitted")
    _follow(page, queue, waiting.reference, waiting.reference)
    expect(page.get_by_role("heading", name="Screening", exact=True)).to_be_visible()
    _home(page)

    asking = _panel(page, "Waiting for more information from the referrer: 1")
    _follow(page, asking, asked.reference, asked.reference)
    expect(
        page.get_by_text("Which school does the child attend?").first
    ).to_be_visible()
    _home(page)

    overdue = _panel(page, "Overdue actions across agencies: 1")
    expect(overdue).to_contain_text(
        f"{case.reference}: Police (PC Amir Khan), due {long_date(cycle['due'])}"
    )
    _follow(page, overdue, case.reference, case.reference)
    _home(page)

    reviews = _panel(page, "Case reviews overdue: 1")
    expect(reviews).to_contain_text(f"review was due {long_date(cycle['review'])}")
    _follow(page, reviews, case.reference, case.reference)
    _home(page)

    late = _panel(page, "Minutes not issued on time: 1")
    _follow(page, late, str(past), str(past))
    expect(page.get_by_role("link", name="Minutes", exact=True)).to_be_visible()
    page.get_by_role("link", name="Minutes", exact=True).click()
    expect_section(page, "Minutes")
    assert_accessible(page)
