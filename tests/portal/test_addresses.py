"""Links that leave the browser use the configured address (DJANGO_BASE_URL),
never the host a request came in on nor Wagtail's first Site (localhost:80)."""

import pytest
from django.core import mail
from django.core.management import call_command
from wagtail.models import Page, Site

from portal.addresses import absolute_url, default_site_sync
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = "https://portal.example.org"


@pytest.fixture
def configured(settings):
    settings.WAGTAILADMIN_BASE_URL = ADDRESS
    return ADDRESS


def test_a_trailing_slash_in_the_setting_makes_no_double_slash(settings):
    settings.WAGTAILADMIN_BASE_URL = f"{ADDRESS}/"
    assert absolute_url("/files/") == f"{ADDRESS}/files/"


def test_password_reset_link_uses_the_configured_address(client, configured):
    person = UserFactory(email="sam@example.org")
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
