"""A referrer attaches a file and chooses, by clicking, who may see it; the
choice is stored and shown again after a reload. In Chromium, with axe-core."""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from referrals.models import AttachmentVisibility
from tests.factories import TOTPDeviceFactory, UserFactory
from tests.factories.documents import PDF
from tests.factories.referrals import complete_answers, complete_draft

from .conftest import assert_accessible
from .test_referrals import expect_section, group, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Who can see the file?"


@pytest.fixture
def referrer(db):
    person = UserFactory(first_name="Sam", last_name="Referrer", roles=[Role.REFERRER])
    TOTPDeviceFactory(user=person)
    return person


def test_the_referrer_chooses_who_sees_the_file(page, live_server, referrer):
    # A referral that protects the victim: the question starts at "restricted".
    draft = complete_draft(referrer, complete_answers(do_not_disclose=True))
    sign_in(page, live_server.url, referrer)
    url = f"{live_server.url}/referrals/drafts/{draft.public_id}/risk/"
    page.goto(url)
    expect_section(page, "The anti-social behaviour and the risk")
    question = group(page, QUESTION)
    restricted = question.get_by_label(AttachmentVisibility.RESTRICTED.label)
    shared = question.get_by_label(AttachmentVisibility.SHARED.label)
    expect(restricted).to_be_checked()
    assert_accessible(page)

    page.get_by_label("Attach a risk assessment (optional)").set_input_files(
        {"name": "risk-assessment.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    shared.click()
    page.get_by_role("button", name="Save and come back later").click()
    expect(page.get_by_text("is saved")).to_be_visible()

    page.goto(url)
    attached = page.get_by_role("listitem").filter(has_text="risk-assessment.pdf (")
    expect(attached).to_contain_text(AttachmentVisibility.SHARED.label.lower())
    stored = draft.attachments.get()
    assert stored.original_name == "risk-assessment.pdf"
    assert stored.visibility == AttachmentVisibility.SHARED
