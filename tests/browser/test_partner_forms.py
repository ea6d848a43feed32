"""The partner agencies' own forms, filled in by clicking and typing in
Chromium: an agreement acknowledgement, a share of several files with several
organisations, and an agency's progress on an action. Each is saved, the page
loaded afresh, and what the database holds and the page shows compared with
what was typed. axe-core runs on every page on the way."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from agreements.models import Acknowledgement
from documents.models import Share
from meetings.models import Action, ActionStatus
from meetings.services import action_add, papers_issue
from tests.conftest import current_code
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.agreements import agreement_tree, signatory_for
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda, started
from tests.factories.referrals import submitted_referral

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_section, fill_date, group, sign_in
from .test_sign_in import enter_password, enter_security_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _reloaded(page) -> None:
    """The page afresh: what the server kept, not what was typed."""
    page.reload()
    assert_accessible(page)


def test_signatory_acknowledges_in_their_own_words(page, live_server):
    _, isa, organisations, _ = agreement_tree()
    signer = signatory_for(organisations[0])
    device = TOTPDeviceFactory(user=signer)
    enter_password(page, live_server.url, signer.username)
    enter_security_code(page, current_code(device))
    page.get_by_role("link", name="CMARAC ISA, version 1.0").click()
    page.get_by_role(
        "link", name=f"Acknowledge version 1.0 for {organisations[0]}"
    ).click()
    assert_accessible(page)
    form_url = page.url

    name = page.get_by_label("Your full name")
    expect(name).to_have_value(signer.get_full_name())
    name.fill("Dr Alex O'Neill-Smith")
    page.get_by_label("Your job title").fill("Head of Housing & Communities")
    page.get_by_label("I confirm that I have read this agreement").check()
    page.get_by_role("button", name="Acknowledge version 1.0").click()
    expect(page.get_by_role("heading", name="Acknowledgement recorded")).to_be_visible()

    ack = Acknowledgement.objects.get()
    assert ack.signatory_name == "Dr Alex O'Neill-Smith"
    assert ack.signatory_role == "Head of Housing & Communities"
    assert ack.organisation_id == organisations[0].pk
    receipt_url = page.url
    _reloaded(page)
    signatory = page.locator(".govuk-summary-list__row", has_text="Signatory")
    expect(signatory.locator("dd")).to_have_text(
        "Dr Alex O'Neill-Smith, Head of Housing & Communities"
    )

    # Acknowledging again only leads back to the receipt: nothing is added.
    page.goto(form_url)
    expect(page).to_have_url(receipt_url)
    expect(page.get_by_text("already acknowledged version 1.0")).to_be_visible()
    assert_accessible(page)
    assert Acknowledgement.objects.count() == 1


@pytest.fixture
def housing_officer(db):
    housing = OrganisationFactory(name="Housing")
    for name in ("Police", "Fire", "Health"):
        OrganisationFactory(name=name)
    person = UserFactory(first_name="Hana", organisation=housing,
                         roles=[Role.REFERRER])  # fmt: skip
    TOTPDeviceFactory(user=person)
    return person


def test_share_two_files_with_two_organisations(
    page, live_server, housing_officer, tmp_path
):
    first, second = tmp_path / "visit notes.txt", tmp_path / "tenancy log.txt"
    first.write_text("Visit on 3 November.\n")
    second.write_text("Tenancy log, October.\n")
    sign_in(page, live_server.url, housing_officer)
    page.get_by_role("link", name="Shared files", exact=True).click()
    page.get_by_role("link", name="Share files").click()
    expect_section(page, "Share files")

    page.get_by_label("Files to share").set_input_files([str(first), str(second)])
    group(page, "Who should receive the files?").get_by_label(
        "Named organisations"
    ).check()
    organisations = group(page, "Organisations")
    organisations.get_by_label("Police").check()
    organisations.get_by_label("Health").check()
    page.get_by_label("Note for the recipients (optional)").fill(
        "For the panel.\nPlease read before Tuesday."
    )
    until = timezone.localdate() + timedelta(days=10)
    fill_date(page, "Available until", str(until.day), str(until.month),
              str(until.year))  # fmt: skip
    page.get_by_role("button", name="Share the files").click()
    expect_section(page, "Shared files")
    expect(page.get_by_text("2 files shared with Health, Police.")).to_be_visible()
    screenshot(page, "documents-share-two")

    share = Share.objects.get()
    assert sorted(share.recipients.values_list("organisation__name", flat=True)) == [
        "Health",
        "Police",
    ]
    assert sorted(share.files.values_list("display_name", flat=True)) == [
        "tenancy log.txt",
        "visit notes.txt",
    ]
    assert share.note == "For the panel.\nPlease read before Tuesday."
    assert timezone.localtime(share.expires_at).date() == until

    _reloaded(page)
    # Once for each file.
    expect(page.get_by_text("Not opened yet by: Health, Police.")).to_have_count(2)
    for name in ("visit notes.txt", "tenancy log.txt"):
        expect(page.get_by_role("link", name=f"Download {name}")).to_be_visible()
    expect(page.get_by_text("Please read before Tuesday.")).to_be_visible()


@pytest.fixture
def police_action(db):
    boss = coordinator()
    police, housing, fire = (OrganisationFactory(name=n) for n in
                             ("Police", "Housing", "Fire"))  # fmt: skip
    referrer = UserFactory(organisation=housing, roles=[Role.REFERRER])
    upcoming = meeting(boss, days_ahead=1)
    item = on_agenda(upcoming, accepted(submitted_referral(referrer), boss),
                     [police, fire], boss)  # fmt: skip
    papers_issue(meeting=upcoming, user=boss)
    started(upcoming)
    action = action_add(
        item=item,
        owner=police,
        officer="PC Example",
        description="Visit the address",
        due=timezone.localdate() + timedelta(days=14),
        user=boss,
    )
    officer = UserFactory(first_name="Petra", organisation=police,
                          roles=[Role.REFERRER])  # fmt: skip
    TOTPDeviceFactory(user=officer)
    return {"officer": officer, "action": action}


def test_agency_updates_its_action(page, live_server, police_action):
    action = police_action["action"]
    sign_in(page, live_server.url, police_action["officer"])
    page.get_by_role("link", name="Meetings", exact=True).click()
    page.get_by_role("link", name="Your organisation's actions").click()
    expect_section(page, "Police: actions")
    page.get_by_role(
        "link", name=re.compile(f"^Update the action for {action.referral.reference}")
    ).click()
    expect_section(page, "Update an action")

    # Nothing typed: the error is by the note, and the choice is kept.
    group(page, "Where is this action now?").get_by_label("Done", exact=True).check()
    page.get_by_role("button", name="Save the update").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    note = page.get_by_label("Progress note")
    expect(note).to_have_accessible_description(re.compile("Enter a progress note"))
    expect(page.get_by_label("Done", exact=True)).to_be_checked()
    assert_accessible(page)

    note.fill("Visited on Monday & spoke to the tenant.\n\nNo further calls.")
    page.get_by_role("button", name="Save the update").click()
    expect(page.get_by_text("The action is updated.")).to_be_visible()
    assert_accessible(page)

    action = Action.objects.get(pk=action.pk)
    assert action.status == ActionStatus.DONE
    assert (
        action.update == "Visited on Monday & spoke to the tenant.\n\nNo further calls."
    )

    page.get_by_role(
        "link", name=re.compile(f"^Update the action for {action.referral.reference}")
    ).click()
    _reloaded(page)
    expect(page.get_by_label("Done", exact=True)).to_be_checked()
    expect(page.get_by_label("Progress note")).to_have_value(
        "Visited on Monday & spoke to the tenant.\n\nNo further calls."
    )
