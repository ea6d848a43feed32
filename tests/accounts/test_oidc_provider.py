"""Signing in with an agency's account, against a real OpenID provider
(django-oauth-toolkit, tests/oidc_provider) started on loopback in its own
process: the portal talks to it over HTTP, as to an agency's provider."""

import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from accounts.models import IdentityProvider, IdentityProviderDevice
from accounts.services.oidc import Refusal, SignInRefused, id_token_check
from audit.models import AuditEvent
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "http://testserver/sign-in/agency-callback/"
OTHER_CALLBACK = "http://testserver/other-client/"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def issuer():
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 (our own module, fixed arguments)
        [
            sys.executable,
            "-m",
            "tests.oidc_provider.serve",
            f"--port={port}",
            f"--redirect-uri={CALLBACK}",
            f"--redirect-uri={OTHER_CALLBACK}",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/o"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"{url}/.well-known/openid-configuration", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(
                        "the test OpenID provider did not start"
                    ) from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def provider(issuer, db, monkeypatch):
    monkeypatch.setenv("DJANGO_OIDC_SECRET_TEST_AGENCY", "portal-secret")
    return IdentityProvider.objects.create(
        organisation=OrganisationFactory(name="Test Agency", slug="test-agency"),
        issuer=issuer,
        client_id="portal",
        client_secret_variable="DJANGO_OIDC_SECRET_TEST_AGENCY",
        email_domains="agency.example",
    )


def _agency_sign_in(authorize_url: str, username: str) -> str:
    """What a browser does at the provider: sign in there, be sent back.
    Returns the portal address the provider sends the browser to."""
    browser = requests.Session()
    url = authorize_url
    for _ in range(10):
        response = browser.get(url, allow_redirects=False, timeout=5)
        if response.status_code == 200 and "csrfmiddlewaretoken" in response.text:
            token = re.search(
                r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text
            ).group(1)
            query = parse_qs(urlsplit(url).query)
            response = browser.post(
                url,
                data={
                    "csrfmiddlewaretoken": token,
                    "username": username,
                    "password": "agency-pass",
                    "next": query["next"][0],
                },
                allow_redirects=False,
                timeout=5,
            )
        assert response.status_code == 302, response.text[:300]
        url = urljoin(url, response.headers["Location"])
        if url.startswith("http://testserver/"):
            return url
    raise AssertionError("the provider never sent the browser back")


def _portal_sign_in(client, provider, username: str):
    start = client.get(f"/sign-in/agency/{provider.organisation.slug}/?next=/account/")
    assert start.status_code == 302
    assert start["Location"].startswith(provider.issuer)
    back = _agency_sign_in(start["Location"], username)
    path = back.removeprefix("http://testserver")
    return path, client.get(path)


def _events(action):
    return list(AuditEvent.objects.filter(action=action).values("outcome", "detail"))


@pytest.mark.django_db
class TestAgencySignIn:
    def test_with_mfa_no_security_code_is_asked(self, client, provider):
        person = UserFactory(
            organisation=provider.organisation, email="sam.mfa@agency.example"
        )
        _, response = _portal_sign_in(client, provider, "sam")
        assert response.status_code == 302
        assert response["Location"] == "/account/"
        assert client.get("/account/").status_code == 200
        assert IdentityProviderDevice.objects.filter(user=person).exists()
        assert _events("auth.provider_signed_in") == [
            {
                "outcome": "success",
                "detail": {"organisation": provider.organisation_id, "mfa": True},
            }
        ]

    def test_without_mfa_the_security_code_step_follows(self, client, provider):
        person = UserFactory(
            organisation=provider.organisation, email="pat.password@agency.example"
        )
        TOTPDeviceFactory(user=person)
        _, response = _portal_sign_in(client, provider, "pat")
        assert response["Location"].startswith("/sign-in/security-code/")
        gated = client.get("/account/")
        assert gated.status_code == 302
        assert gated["Location"].startswith("/sign-in/security-code/")
        assert _events("auth.provider_signed_in")[0]["detail"]["mfa"] is False

    def test_without_mfa_or_an_authenticator_enrolment_follows(self, client, provider):
        UserFactory(
            organisation=provider.organisation, email="pat.password@agency.example"
        )
        _, response = _portal_sign_in(client, provider, "pat")
        assert response["Location"].startswith("/sign-in/set-up-authenticator/")

    def test_a_replayed_state_is_refused(self, client, provider):
        UserFactory(organisation=provider.organisation, email="sam.mfa@agency.example")
        path, first = _portal_sign_in(client, provider, "sam")
        assert first.status_code == 302
        client.post("/sign-out/")
        again = client.get(path)
        assert again.status_code == 400
        assert "already been used" in again.content.decode()
        assert client.get("/account/").status_code == 302
        assert _events("auth.provider_refused")[-1]["detail"] == {
            "reason": "unknown_state"
        }

    def test_an_email_outside_the_organisations_domains_is_refused(
        self, client, provider
    ):
        UserFactory(organisation=provider.organisation, email="alex@elsewhere.example")
        _, response = _portal_sign_in(client, provider, "alex")
        assert response.status_code == 400
        assert "not one the portal accepts" in response.content.decode()
        assert "_auth_user_id" not in client.session
        assert _events("auth.provider_refused") == [
            {
                "outcome": "failure",
                "detail": {
                    "reason": "email_outside_domains",
                    "organisation": provider.organisation_id,
                },
            }
        ]

    def test_a_deactivated_person_is_refused_with_the_plain_message(
        self, client, provider
    ):
        UserFactory(
            organisation=provider.organisation,
            email="dee.left@agency.example",
            is_active=False,
        )
        _, response = _portal_sign_in(client, provider, "dee")
        assert response.status_code == 400
        assert "This account has been closed" in response.content.decode()
        assert "_auth_user_id" not in client.session
        assert _events("auth.provider_refused")[0]["detail"]["reason"] == (
            "account_inactive"
        )

    def test_an_id_token_for_another_client_is_refused(self, provider):
        """A real ID token the provider issued to another client (token
        substitution) fails the audience check."""
        other = OAuth2Session(
            client_id="other",
            client_secret="other-secret",
            scope="openid email",
            redirect_uri=OTHER_CALLBACK,
            code_challenge_method="S256",
        )
        verifier = "v" * 64
        metadata = requests.get(
            f"{provider.issuer}/.well-known/openid-configuration", timeout=5
        ).json()
        url, _ = other.create_authorization_url(
            metadata["authorization_endpoint"], nonce="n-1", code_verifier=verifier
        )
        back = _agency_sign_in(url, "sam")
        token = other.fetch_token(
            metadata["token_endpoint"],
            authorization_response=back,
            code_verifier=verifier,
        )
        keys = requests.get(metadata["jwks_uri"], timeout=5).json()
        with pytest.raises(SignInRefused) as refused:
            id_token_check(provider, token["id_token"], nonce="n-1", keys=keys)
        assert refused.value.reason is Refusal.WRONG_AUDIENCE
        # The same token is accepted by the client it was issued to.
        provider.client_id = "other"
        assert id_token_check(provider, token["id_token"], nonce="n-1", keys=keys)
