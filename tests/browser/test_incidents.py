"""A caseworker reports a suspected data incident: from the footer link,
through a refusal that keeps what they typed, ticking the two cases it
concerns; the incident page, reloaded, shows what was stored, and the
coordinator is told. In Chromium, with axe-core on every page on the way."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from incidents.models import Incident
from jobs.models import OutgoingEmail
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.referrals import submitted_referral

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_section, fill_date, group, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WHAT = "I sent the visit notes to the fire brigade instead of the police."


@pytest.fixture
def people(db):
    housing = OrganisationFactory(name="Housing")
    reporter = UserFactory(first_name="Hana", last_name="Housing",
                           organisation=housing, roles=[Role.REFERRER])  # fmt: skip
    TOTPDeviceFactory(user=reporter)
    coordinator = UserFactory(roles=[Role.COORDINATOR])
    cases = [submitted_referral(reporter) for _ in range(3)]
    return {"reporter": reporter, "coordinator": coordinator, "cases": cases}


def test_report_an_incident_ticking_the_cases_it_concerns(page, live_server, people):
    reporter, cases = people["reporter"], people["cases"]
    sign_in(page, live_server.url, reporter)
    page.get_by_role("link", name="Report a suspected data incident").click()
    expect_section(page, "Report a suspected data incident")

    # Nothing typed about what happened: the error is by the field, and the
    # case already ticked stays ticked.
    cases_group = group(page, "Which cases does it concern? (optional)")
    cases_group.get_by_label(f"{cases[0].reference} (Housing)").check()
    page.get_by_role("button", name="Report the incident").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter what happened")
    expect(summary).to_contain_text("Enter the date it was discovered")
    expect(cases_group.get_by_label(f"{cases[0].reference} (Housing)")).to_be_checked()
    assert_accessible(page)
    screenshot(page, "incident-report-error")

    page.get_by_label("What happened?").fill(WHAT)
    yesterday = timezone.localdate() - timezone.timedelta(days=1)
    fill_date(
        page,
        "When was it discovered?",
        str(yesterday.day),
        str(yesterday.month),
        str(yesterday.year),
    )
    page.get_by_label("Time it was discovered (optional)").fill("16:45")
    cases_group.get_by_label(f"{cases[2].reference} (Housing)").check()
    page.get_by_role("button", name="Report the incident").click()

    incident = Incident.objects.get()
    expect_section(page, incident.reference)
    expect(
        page.get_by_text("The coordinators and the data protection officer")
    ).to_be_visible()

    page.reload()
    expect_section(page, incident.reference)
    details = page.locator(".govuk-summary-list").first
    expect(details).to_contain_text(WHAT)
    expect(details).to_contain_text(
        ", ".join(sorted([cases[0].reference, cases[2].reference]))
    )
    expect(details).not_to_contain_text(cases[1].reference)
    expect(details).to_contain_text("16:45")
    expect(details).to_contain_text("Decide on telling the ICO by")
    assert_accessible(page)
    screenshot(page, "incident-page")

    stored = sorted(incident.cases.values_list("reference", flat=True))
    assert stored == sorted([cases[0].reference, cases[2].reference])
    assert incident.what_happened == WHAT
    assert timezone.localtime(incident.discovered_at).strftime("%H:%M") == "16:45"
    assert OutgoingEmail.objects.filter(
        event=f"incident:{incident.pk}:reported", to=people["coordinator"].email
    ).exists()

    # Their own list shows it.
    page.get_by_role("link", name="Incidents", exact=True).click()
    expect_section(page, "Your incident reports")
    expect(page.get_by_role("link", name=incident.reference)).to_be_visible()
