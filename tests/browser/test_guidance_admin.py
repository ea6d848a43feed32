"""An editor writes a guidance page in the Wagtail admin and submits it for a
coordinator's approval, by clicking and typing in Chromium; the revision and
the workflow are then read back from the database and from the reloaded
editor. axe-core runs on the portal pages on the way (the admin is Wagtail's)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Role
from home.models import GuidancePage
from tests.factories import TOTPDeviceFactory, UserFactory
from tests.factories.guidance import guidance_index

from .conftest import screenshot
from .test_referrals import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUMMARY = "For referrers: what to do when a case is urgent."
BODY = "Ring the coordinator before you submit the referral."


@pytest.fixture
def editor(db):
    person = UserFactory(first_name="Eddie", last_name="Editor", roles=[Role.EDITOR])
    TOTPDeviceFactory(user=person)
    return person


def test_editor_writes_and_submits_a_guidance_page(page, live_server, editor):
    index = guidance_index()
    sign_in(page, live_server.url, editor)
    add = reverse("wagtailadmin_pages:add", args=["home", "guidancepage", index.pk])
    page.goto(f"{live_server.url}{add}")

    page.get_by_role("textbox", name=re.compile(r"^Title")).fill("Urgent cases")
    page.locator("#id_summary").fill(SUMMARY)
    page.get_by_role("button", name="Insert a block").first.click()
    page.get_by_role("option", name="Text", exact=True).click()
    editor_box = page.locator(".Draftail-Editor [contenteditable=true]").first
    editor_box.click()
    page.keyboard.type(BODY)
    # People are listed with their organisation, so namesakes differ.
    page.locator("#id_owner_person").select_option(label=editor.name_with_organisation)
    today = timezone.localdate()
    page.locator("#id_last_reviewed").fill(today.isoformat())
    page.locator("#id_review_by").fill((today + timedelta(days=180)).isoformat())
    page.locator("#id_summary").click()  # away from the date picker
    screenshot(page, "guidance-admin-filled")

    page.get_by_role("button", name="More actions").click()
    page.get_by_role(
        "button", name=re.compile(r"^Submit to Coordinator approval")
    ).click()
    expect(
        page.get_by_text("Page 'Urgent cases' created and submitted for moderation.")
    ).to_be_visible()
    screenshot(page, "guidance-admin-submitted")

    saved = GuidancePage.objects.get()
    assert saved.workflow_in_progress
    assert not saved.live
    draft = saved.get_latest_revision_as_object()
    assert draft.title == "Urgent cases"
    assert draft.summary == SUMMARY
    assert BODY in str(draft.body)
    assert draft.owner_person == editor
    assert draft.review_by == today + timedelta(days=180)

    edit = reverse("wagtailadmin_pages:edit", args=[saved.pk])
    page.goto(f"{live_server.url}{edit}")
    expect(page.locator("#id_summary")).to_have_value(SUMMARY)
    expect(page.locator(".Draftail-Editor").first).to_contain_text(BODY)
    expect(page.get_by_text(re.compile("Coordinator approval"))).not_to_have_count(0)
