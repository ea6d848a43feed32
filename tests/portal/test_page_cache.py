"""Reading pages are rendered once and shared by everyone who would see the
same page, each with their own name, session token and script nonce."""

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from portal import page_cache
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import acknowledge, agreement_tree, signatory_for
from tests.factories.guidance import guidance

pytestmark = pytest.mark.django_db


def _get(client, url):
    """The response, and whether it came from the shared cache (no routing)."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, not [q for q in queries if "wagtailcore_page" in q["sql"]]


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.fixture
def guide():
    return guidance(title="Keeping papers safe")


@pytest.fixture
def readers():
    agency = OrganisationFactory(name="Northtown Housing")
    first = UserFactory(organisation=agency, roles=[Role.REFERRER],
                        first_name="Asha", last_name="Reader")  # fmt: skip
    second = UserFactory(organisation=agency, roles=[Role.REFERRER],
                         first_name="Ben", last_name="Later")  # fmt: skip
    return first, second


def test_the_second_reader_gets_the_kept_page_with_their_own_name(guide, readers):
    first, second = readers
    response, kept = _get(verified_client_for(first), guide.url)
    assert "Keeping papers safe" in response.text and not kept
    response, kept = _get(verified_client_for(second), guide.url)
    assert kept
    assert "Keeping papers safe" in response.text
    assert "Ben Later" in response.text and "Asha Reader" not in response.text


def test_each_reader_signs_out_with_their_own_token(guide, readers):
    first, second = readers
    verified_client_for(first).get(guide.url)
    client = verified_client_for(second)
    html = client.get(guide.url).text
    assert page_cache.CSRF not in html
    client.enforce_csrf_checks = True
    client.handler.enforce_csrf_checks = True
    response = client.post("/sign-out/", {"csrfmiddlewaretoken": _csrf(html)})
    assert response.status_code == 302
    assert client.get(guide.url).status_code == 302  # signed out: to sign-in


def test_each_response_carries_its_own_script_nonce(guide, readers):
    first, second = readers
    verified_client_for(first).get(guide.url)
    response = verified_client_for(second).get(guide.url)
    nonce = re.search(r'<script nonce="([^"]+)"', response.text).group(1)
    assert nonce != page_cache.NONCE
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_a_published_change_shows_at_once(guide, readers):
    first, second = readers
    verified_client_for(first).get(guide.url)
    guide.title = "Keeping papers safe and sound"
    guide.save_revision().publish()
    assert "safe and sound" in verified_client_for(second).get(guide.url).text


def test_other_organisations_and_roles_get_their_own_page():
    _, isa, (a, b), _ = agreement_tree(
        organisations=[OrganisationFactory(name="Agency A"),
                       OrganisationFactory(name="Agency B")]
    )  # fmt: skip
    acknowledge(isa.latest_version, a)
    url = isa.url
    signatory_a, signatory_b = signatory_for(a), signatory_for(b)
    assert "Acknowledge version" not in verified_client_for(signatory_a).get(url).text
    html_b = verified_client_for(signatory_b).get(url).text
    assert "for Agency B" in html_b and "for Agency A" not in html_b
    referrer_b = UserFactory(organisation=b, roles=[Role.REFERRER])
    assert "Acknowledge version" not in verified_client_for(referrer_b).get(url).text


def test_a_waiting_message_is_shown_not_skipped(guide, readers):
    first, second = readers
    verified_client_for(first).get(guide.url)
    client = verified_client_for(second)
    waiting = [Message(constants.SUCCESS, "Your change was saved.")]
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies[storage.cookie_name] = storage._encode(waiting)
    response = client.get(guide.url)
    assert "Your change was saved." in response.text
    assert "Your change was saved." not in client.get(guide.url).text


def test_a_page_asked_for_with_a_query_is_not_kept(readers):
    _, isa, _, _ = agreement_tree(organisations=[readers[0].organisation])
    first, second = readers
    url = f"{isa.url}?version=1.0"
    _get(verified_client_for(first), url)
    response, kept = _get(verified_client_for(second), url)
    assert response.status_code == 200 and not kept


def test_nobody_signed_out_is_served_a_kept_page(guide, readers):
    verified_client_for(readers[0]).get(guide.url)
    response = Client().get(guide.url)
    assert response.status_code == 302
    assert "Keeping papers safe" not in response.text


def test_a_home_page_is_kept_for_its_owner_alone(readers):
    from referrals.services import draft_start

    first, second = readers
    draft_start(user=first)
    assert "Your draft referrals: 1" in verified_client_for(first).get("/").text
    response, kept = _get(verified_client_for(second), "/")
    assert not kept  # same roles and agency, but not the same person
    assert "Your draft referrals" not in response.text
    response, kept = _get(verified_client_for(first), "/")
    assert kept and "Your draft referrals: 1" in response.text


def test_the_menu_links_to_the_guidance(guide, readers):
    html = verified_client_for(readers[0]).get("/").text
    index_url = guide.get_parent().url
    assert f'<a class="govuk-service-navigation__link" href="{index_url}">' in html
    assert ">Guidance</a>" in html
