"""Security headers a browser sees on portal pages, the sign-in page and the admin.

The portal's policy allows no inline script except the one snippet in
base.html, which carries the per-request nonce; the Wagtail admin needs inline
script and styles, so it gets a looser policy of its own.
"""

import re

import pytest
from django.test import Client, override_settings

from tests.conftest import sign_in_with_password, verify_session
from tests.factories import TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db

PORTAL_PAGES = ["/", "/account/"]
NONCE_SOURCE = re.compile(r"'nonce-([^']+)'")
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)([^>]*)>")
NONCE_ATTRIBUTE = re.compile(r'\bnonce="([^"]*)"')


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def verified_client_for(person) -> Client:
    TOTPDeviceFactory(user=person)
    client = Client()
    sign_in_with_password(client, person)
    verify_session(client, person)
    return client


class TestPortalPageHeaders:
    @pytest.mark.parametrize("url", PORTAL_PAGES)
    def test_page_is_shown_to_a_verified_user(self, verified_client, url):
        # Guards every header test below against passing on a redirect.
        assert verified_client.get(url).status_code == 200

    @pytest.mark.parametrize("url", PORTAL_PAGES)
    def test_script_policy_allows_only_own_files_and_the_nonce(
        self, verified_client, url
    ):
        script_src = policy(verified_client.get(url))["script-src"]
        assert "'unsafe-inline'" not in script_src
        assert "'unsafe-eval'" not in script_src
        assert "'self'" in script_src
        assert [s for s in script_src if NONCE_SOURCE.fullmatch(s)], script_src

    @pytest.mark.parametrize("url", PORTAL_PAGES)
    def test_every_inline_script_carries_the_nonce_in_the_header(
        self, verified_client, url
    ):
        response = verified_client.get(url)
        header_nonces = NONCE_SOURCE.findall(" ".join(policy(response)["script-src"]))
        assert len(header_nonces) == 1
        inline_scripts = INLINE_SCRIPT.findall(response.content.decode())
        assert inline_scripts, "base.html has an inline script to test"
        for attributes in inline_scripts:
            assert NONCE_ATTRIBUTE.findall(attributes) == header_nonces

    def test_nonce_changes_with_every_response(self, verified_client):
        first = NONCE_SOURCE.search(verified_client.get("/")["Content-Security-Policy"])
        second = NONCE_SOURCE.search(
            verified_client.get("/")["Content-Security-Policy"]
        )
        assert first.group(1) != second.group(1)

    @pytest.mark.parametrize("url", PORTAL_PAGES)
    def test_page_cannot_be_framed_or_plug_in_objects(self, verified_client, url):
        response = verified_client.get(url)
        directives = policy(response)
        assert response["X-Frame-Options"] == "DENY"
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["object-src"] == ["'none'"]
        assert directives["base-uri"] == ["'none'"]

    @pytest.mark.parametrize("url", PORTAL_PAGES)
    def test_content_type_and_referrer_are_locked_down(self, verified_client, url):
        response = verified_client.get(url)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"

    @pytest.mark.parametrize("url", PORTAL_PAGES)
    def test_no_browser_or_proxy_keeps_a_copy(self, verified_client, url):
        cache_control = verified_client.get(url)["Cache-Control"]
        assert "no-store" in cache_control
        assert "private" in cache_control


class TestStrictTransportSecurity:
    @override_settings(SECURE_HSTS_SECONDS=31536000)
    @pytest.mark.parametrize("url", PORTAL_PAGES)
    def test_https_responses_tell_browsers_to_stay_on_https(self, verified_client, url):
        response = verified_client.get(url, secure=True)
        assert response.status_code == 200
        assert response["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains"
        )

    @override_settings(SECURE_HSTS_SECONDS=31536000)
    def test_plain_http_responses_do_not_carry_it(self, verified_client):
        # Browsers ignore HSTS over http; sending it there would mislead.
        assert "Strict-Transport-Security" not in verified_client.get("/")

    @override_settings(SECURE_SSL_REDIRECT=True)
    def test_plain_http_is_sent_to_https_when_redirect_is_on(self, verified_client):
        response = verified_client.get("/account/")
        assert response.status_code == 301
        assert response["Location"].startswith("https://")


class TestSignInPageHeaders:
    def test_anonymous_sign_in_page_has_the_portal_policy(self, client):
        response = client.get("/sign-in/")
        assert response.status_code == 200
        directives = policy(response)
        assert "'unsafe-inline'" not in directives["script-src"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_sign_in_page_inline_script_matches_the_nonce(self, client):
        response = client.get("/sign-in/")
        header_nonces = NONCE_SOURCE.findall(response["Content-Security-Policy"])
        for attributes in INLINE_SCRIPT.findall(response.content.decode()):
            assert NONCE_ATTRIBUTE.findall(attributes) == header_nonces


class TestAdminHeaders:
    @pytest.fixture(
        params=["superuser", "coordinator"],
        ids=["verified superuser", "verified coordinator"],
    )
    def admin_client(self, request):
        if request.param == "superuser":
            person = UserFactory(is_superuser=True, is_staff=True)
        else:
            person = UserFactory(roles=["Coordinators"])
        return verified_client_for(person)

    def test_admin_gets_its_own_policy(self, admin_client):
        response = admin_client.get("/admin/")
        assert response.status_code == 200
        directives = policy(response)
        # Wagtail's admin relies on inline script and styles...
        assert "'unsafe-inline'" in directives["script-src"]
        assert "'unsafe-inline'" in directives["style-src"]
        # ...and frames its own previews, but nobody else may frame it.
        assert directives["frame-ancestors"] == ["'self'"]
        assert directives["object-src"] == ["'none'"]

    def test_admin_is_not_stored_or_framed_elsewhere(self, admin_client):
        response = admin_client.get("/admin/")
        assert "no-store" in response["Cache-Control"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_admin_policy_stays_in_the_admin(self, admin_client):
        admin_client.get("/admin/")
        directives = policy(admin_client.get("/"))
        assert "'unsafe-inline'" not in directives["script-src"]
        assert directives["frame-ancestors"] == ["'none'"]
