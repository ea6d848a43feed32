"""Links that leave the browser use the configured address (DJANGO_BASE_URL),
never the host a request came in on nor Wagtail's first Site (localhost:80)."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import Page, Site

from accounts.models import Role
from home.models import GuidancePage
from portal.addresses import absolute_url, default_site_sync
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.guidance import guidance
from tests.factories.referrals import submitted_referral

from .test_settings import settings_of

pytestmark = pytest.mark.django_db

ADDRESS = "https://portal.example.org"


@pytest.fixture
def configured(settings):
    settings.WAGTAILADMIN_BASE_URL = ADDRESS
    return ADDRESS


def test_a_trailing_slash_in_the_setting_makes_no_double_slash(settings):
    settings.WAGTAILADMIN_BASE_URL = f"{ADDRESS}/"
    assert absolute_url("/files/") == f"{ADDRESS}/files/"


def test_password_reset_link_uses_the_configured_address(
    client, configured, django_capture_on_commit_callbacks
):
    person = UserFactory(email="sam@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/password-reset/", {"email": person.email}, HTTP_HOST="testserver")
    (message,) = mail.outbox
    assert f"{ADDRESS}/password-reset/" in message.body
    assert "testserver" not in message.body


def test_wagtail_page_links_follow_the_configured_address(configured):
    # Wagtail's "page approved" email links to Page.full_url, built from the Site.
    call_command("migrate", verbosity=0)  # the sync runs after every migrate
    site = Site.objects.get(is_default_site=True)
    assert site.root_url == ADDRESS
    home = Page.objects.get(pk=site.root_page_id)
    assert home.full_url == f"{ADDRESS}/"


def test_a_port_is_kept(settings):
    settings.WAGTAILADMIN_BASE_URL = "http://127.0.0.1:8000"
    default_site_sync()
    assert Site.objects.get(is_default_site=True).root_url == "http://127.0.0.1:8000"


LINK = re.compile(r"https?://[^\s\"'<>]+")


def _links(bodies) -> list[str]:
    return [link for body in bodies for link in LINK.findall(body)]


def test_a_referrals_emails_link_to_the_configured_address(
    configured, django_capture_on_commit_callbacks
):
    UserFactory(roles=[Role.COORDINATOR], email="coordinator@example.org")
    referrer = UserFactory(roles=[Role.REFERRER], email="referrer@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        submitted_referral(referrer)
    # The referrer's receipt and the coordinators' news, as delivered.
    assert {to for message in mail.outbox for to in message.to} == {
        "referrer@example.org",
        "coordinator@example.org",
    }
    links = _links(message.body for message in mail.outbox)
    assert len(links) == 2, links
    assert all(link.startswith(f"{ADDRESS}/") for link in links), links


def test_wagtails_approval_emails_link_to_the_configured_address(configured):
    # Wagtail writes these itself: "submitted for approval" to coordinators,
    # then "approved" to the editor who submitted.
    editor = UserFactory(roles=[Role.EDITOR], email="editor@example.org")
    approver = UserFactory(roles=[Role.COORDINATOR], email="approver@example.org")
    default_site_sync()  # as every migrate does when the portal is deployed
    page = guidance(owner=editor, publish=False)
    state = page.get_workflow().start(page, editor)
    verified_client_for(approver).post(
        reverse(
            "wagtailadmin_pages:workflow_action",
            args=[page.pk, "approve", state.current_task_state.pk],
        ),
        {"comment": ""},
    )
    assert GuidancePage.objects.get(pk=page.pk).live
    assert {to for message in mail.outbox for to in message.to} == {
        "editor@example.org",
        "approver@example.org",
    }
    bodies = [message.body for message in mail.outbox] + [
        html for message in mail.outbox for html, _ in message.alternatives
    ]
    links = _links(bodies)
    assert any("/admin/pages/" in link for link in links), links
    assert all(link.startswith(f"{ADDRESS}/") for link in links), links


def test_in_development_the_address_is_where_make_run_serves():
    # Without DJANGO_BASE_URL, links in development emails must open the
    # server ``make run`` starts, port included.
    makefile = (Path(django_settings.BASE_DIR) / "Makefile").read_text()
    served = re.search(r"manage\.py dev_server (\S+)", makefile).group(1)
    development = settings_of("dev")
    assert development["WAGTAILADMIN_BASE_URL"] == f"http://{served}"
