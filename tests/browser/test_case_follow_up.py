"""A referral followed up, by clicking: the referrer attaches two files with
different visibility and submits; once the coordinator accepts the case, an
invited agency adds a case note. After reloads, what was stored is checked.
In Chromium, with axe-core."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from referrals.models import AttachmentVisibility, CaseNote, Status
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.documents import PDF
from tests.factories.meetings import accepted
from tests.factories.referrals import complete_answers, complete_draft, share

from .conftest import assert_accessible
from .test_referrals import expect_section, group, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _person(**fields):
    person = UserFactory(**fields)
    TOTPDeviceFactory(user=person)
    return person


def _attach(page, url, name, visibility):
    page.goto(url)
    expect_section(page, "The anti-social behaviour and the risk")
    page.get_by_label("Attach a risk assessment (optional)").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": PDF}
    )
    group(page, "Who can see the file?").get_by_label(visibility.label).click()
    page.get_by_role("button", name="Save and come back later").click()
    expect(page.get_by_text("is saved")).to_be_visible()


def test_two_files_then_a_case_note(page, browser, live_server):
    referrer = _person(first_name="Sam", last_name="Referrer", roles=[Role.REFERRER])
    police = OrganisationFactory(name="Police")
    officer = _person(first_name="Pat", last_name="Officer", organisation=police,
                      roles=[Role.REFERRER])  # fmt: skip
    draft = complete_draft(referrer, complete_answers())
    sign_in(page, live_server.url, referrer)
    risk = f"{live_server.url}/referrals/drafts/{draft.public_id}/risk/"
    _attach(page, risk, "for-everyone.pdf", AttachmentVisibility.SHARED)
    _attach(page, risk, "for-us-only.pdf", AttachmentVisibility.RESTRICTED)

    page.goto(risk)
    listed = page.get_by_role("listitem")
    expect(listed.filter(has_text="for-everyone.pdf (")).to_contain_text(
        AttachmentVisibility.SHARED.label.lower()
    )
    expect(listed.filter(has_text="for-us-only.pdf (")).to_contain_text(
        AttachmentVisibility.RESTRICTED.label.lower()
    )
    page.goto(f"{live_server.url}/referrals/drafts/{draft.public_id}/check/")
    assert_accessible(page)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Submit referral").click()
    draft.refresh_from_db()
    referral = draft.referral
    assert referral is not None
    stored = {a.original_name: a.visibility for a in referral.attachments.all()}
    assert stored == {
        "for-everyone.pdf": AttachmentVisibility.SHARED,
        "for-us-only.pdf": AttachmentVisibility.RESTRICTED,
    }

    # Screening is the coordinators' own journey (tests/browser/test_referrals).
    referral = accepted(referral)
    assert referral.status == Status.ACCEPTED
    share(referral, police)

    agency = browser.new_page()
    sign_in(agency, live_server.url, officer)
    agency.goto(f"{live_server.url}{referral.get_absolute_url()}")
    assert_accessible(agency)
    # The restricted file is not listed for the police; the shared one is.
    expect(agency.get_by_text("for-everyone.pdf")).to_be_visible()
    expect(agency.get_by_text("for-us-only.pdf")).to_have_count(0)
    agency.get_by_label("Add a case note").fill("Visited the address; all well.")
    agency.get_by_role("button", name="Add the note").click()
    expect(agency.get_by_text("Your note was added to the case.")).to_be_visible()
    agency.reload()
    expect(agency.locator("[data-case-note]")).to_contain_text(
        "Visited the address; all well."
    )
    expect(agency.locator("[data-case-note]")).to_contain_text("Pat Officer, Police")
    assert_accessible(agency)
    note = CaseNote.objects.get(referral=referral)
    assert (note.author, note.coordinators_only) == (officer, False)
    agency.close()
