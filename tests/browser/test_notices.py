"""A caseworker opens What's new from the header, follows a notice (which
marks it read), then unticks two kinds of email, saves, reloads and sees
what was stored. In Chromium, with axe-core on every page on the way."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from notices.models import EmailChoice, Notice, NoticeKind
from notices.services import notices_record
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

from .conftest import assert_accessible, screenshot
from .test_referrals import expect_section, group, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def caseworker(db):
    police = OrganisationFactory(name="Police")
    person = UserFactory(first_name="Petra", organisation=police, roles=[Role.REFERRER])
    TOTPDeviceFactory(user=person)
    for n, title in enumerate(
        ["Housing shared 2 files with your organisation", "Papers issued: March"]
    ):
        notices_record(
            kind=NoticeKind.FILES_WAITING if n == 0 else NoticeKind.PAPERS_ISSUED,
            recipients=[person],
            title=title,
            link="/files/",
            event=f"browser-{n}",
        )
    return person


def test_read_a_notice_and_choose_emails(page, live_server, caseworker):
    sign_in(page, live_server.url, caseworker)
    page.get_by_role("link", name="What's new (2)").click()
    expect_section(page, "What's new")
    screenshot(page, "whats-new")

    page.get_by_role(
        "link", name="Housing shared 2 files with your organisation"
    ).click()
    expect(page).to_have_url(re.compile(r"/files/$"))
    expect(page.get_by_role("link", name="What's new (1)")).to_be_visible()
    opened = Notice.objects.get(title__startswith="Housing shared")
    assert opened.read_at is not None

    page.get_by_role("link", name="What's new (1)").click()
    row = page.get_by_role("row").filter(has_text="Housing shared 2 files")
    expect(row).to_contain_text("Read")
    expect(page.get_by_role("row").filter(has_text="Papers issued")).to_contain_text(
        "New"
    )

    page.get_by_role("link", name="Email choices").click()
    expect_section(page, "Email choices")
    choices = group(page, "Email me about")
    expect(choices.get_by_label("Files shared with your organisation")).to_be_checked()
    expect(page.get_by_text("Changes to how you sign in: always on")).to_be_visible()
    choices.get_by_label("Files shared with your organisation").uncheck()
    choices.get_by_label("Meeting papers issued").uncheck()
    page.get_by_role("button", name="Save email choices").click()
    expect(page.get_by_text("Your email choices are saved.")).to_be_visible()

    page.reload()
    choices = group(page, "Email me about")
    expect(
        choices.get_by_label("Files shared with your organisation")
    ).not_to_be_checked()
    expect(choices.get_by_label("Meeting papers issued")).not_to_be_checked()
    expect(choices.get_by_label("Cases shared with your organisation")).to_be_checked()
    assert_accessible(page)
    stored = dict(
        EmailChoice.objects.filter(user=caseworker).values_list("kind", "email")
    )
    assert stored == {"files_waiting": False, "papers_issued": False}
