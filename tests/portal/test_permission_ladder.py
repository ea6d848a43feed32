"""The permission ladder for every route in the URL resolver.

Anonymous people are sent to sign in; a password alone is sent to the second
factor; a verified session reaches the page. New views join automatically.
"""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from tests.conftest import sign_in_with_password, verified_client_for, verify_session
from tests.factories import TOTPDeviceFactory, UserFactory
from tests.shared_setup import rolled_back_after_module

from .routes import all_routes, route_params

ROUTES, UNSAMPLED = all_routes()
GATED = [r for r in ROUTES if r.level == "verified"]
NOT_PUBLIC = [r for r in ROUTES if r.level != "public"]

# The only routes anyone may reach without signing in. Adding one is a
# decision to review, so it has to be made here too.
EXPECTED_PUBLIC = {
    "health",
    "about",
    "accounts:login",
    "accounts:password_reset",
    "accounts:password_reset_done",
    "accounts:password_reset_confirm",
    # A new account's holder chooses a password from their emailed link.
    "accounts:invitation",
    # Signing in through an organisation's own identity provider: the start
    # (a redirect to the provider) and its answer (accounts.provider_views).
    "accounts:provider_start",
    "accounts:provider_callback",
    # A withdrawn partner's contact confirms destruction from a one-time
    # signed link: their account is suspended (partners.services).
    "partners:certificate",
    # Answers its own JSON 401/403 to the idle-warning script (accounts.views).
    "accounts:session",
    "admin/login/",
    "wagtailadmin_sprite",
    "wagtailadmin_javascript_catalog",
}
EXPECTED_PASSWORD_ONLY = {
    "accounts:verify",
    "accounts:enrol",
    "accounts:logout",
    "admin/logout/",
}


# Wagtail's admin has a page that fails on purpose, to test error reporting.
DELIBERATE_ERRORS = {"wagtailadmin_error_test"}


def _label(route):
    return route.name or route.pattern


def _path(response):
    return urlsplit(response["Location"]).path


class TestRouteDiscovery:
    def test_every_route_has_a_sample_url(self):
        assert UNSAMPLED == []
        # Wagtail's admin alone has well over a hundred routes.
        assert len(ROUTES) > 150

    def test_public_routes_are_exactly_the_sign_in_reset_health_and_assets(self):
        public = {_label(r) for r in ROUTES if r.level == "public"}
        assert public == EXPECTED_PUBLIC

    def test_password_only_routes_are_the_second_factor_steps(self):
        password_only = {_label(r) for r in ROUTES if r.level == "password_only"}
        assert password_only == EXPECTED_PASSWORD_ONLY


@pytest.mark.django_db
@pytest.mark.parametrize("route", NOT_PUBLIC, ids=str)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_is_sent_to_sign_in(client, route, method):
    response = getattr(client, method)(route.url)
    assert response.status_code == 302, route
    assert _path(response) == reverse("accounts:login")
    assert "next=" in response["Location"]


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker):
    """The people the ladder signs in as, made once for the module and rolled
    back after it. Each test runs in a transaction of its own inside this one,
    with a new client and session, so no test sees another's requests."""
    with rolled_back_after_module(django_db_blocker):
        referrer = UserFactory(roles=[Role.REFERRER])
        TOTPDeviceFactory(user=referrer)
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        TOTPDeviceFactory(user=coordinator)
        yield {
            "referrer": referrer,
            "without_device": UserFactory(),
            "coordinator": coordinator,
        }


@pytest.fixture
def password_client(people):
    """A referrer with an authenticator, signed in with a password only."""
    client = Client()
    sign_in_with_password(client, people["referrer"])
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("route", GATED, ids=str)
@pytest.mark.parametrize("method", ["get", "post"])
def test_password_alone_is_sent_to_the_second_factor(password_client, route, method):
    response = getattr(password_client, method)(route.url)
    assert response.status_code == 302, route
    assert _path(response) == reverse("accounts:verify")


@pytest.mark.django_db
@pytest.mark.parametrize("route", GATED, ids=str)
def test_password_alone_without_a_device_is_sent_to_enrol(people, route):
    client = Client()
    sign_in_with_password(client, people["without_device"])
    response = client.get(route.url)
    assert response.status_code == 302, route
    assert _path(response) == reverse("accounts:enrol")


@pytest.fixture
def coordinator_client(db, people):
    """A verified coordinator, who may use the Wagtail admin."""
    return verified_client_for(people["coordinator"])


# One request per route answers both questions: does a verified session get
# past the gate, and is what it gets kept out of every cache?
@pytest.mark.parametrize("route", route_params(GATED))
def test_verified_session_gets_past_the_gate_and_is_never_cached(
    coordinator_client, route
):
    response = coordinator_client.get(route.url)
    if response.status_code in (301, 302, 303, 307, 308):
        assert _path(response) not in {
            reverse("accounts:login"),
            reverse("accounts:verify"),
            reverse("accounts:enrol"),
        }, route
    elif _label(route) in DELIBERATE_ERRORS:
        assert response.status_code == 500
    else:
        # Sample ids point at nothing, so 404 is fine; nothing else may fail.
        assert response.status_code in {200, 400, 403, 404, 405}, (
            route,
            response.status_code,
        )
    assert "no-store" in response.get("Cache-Control", ""), route


# The data protection officer's routes (rights.views): a verified session is
# not enough; every other role, coordinators and administrators included, is
# refused, and the officer gets the page (sample ids point at nothing: 404).
DATA_PROTECTION = [r for r in GATED if r.name.startswith("rights:")]


def test_the_data_protection_routes_are_walked():
    assert len(DATA_PROTECTION) >= 3


@pytest.mark.django_db
@pytest.mark.parametrize("route", DATA_PROTECTION, ids=str)
def test_data_protection_routes_are_the_officers_alone(coordinator_client, route):
    assert coordinator_client.get(route.url).status_code == 403, route
    administrator = UserFactory(organisation=None, is_superuser=True, is_staff=True)
    client = Client(raise_request_exception=False)
    sign_in_with_password(client, administrator)
    verify_session(client, administrator)
    assert client.get(route.url).status_code == 403, route
    officer = UserFactory(roles=["Data protection officers"])
    client = Client(raise_request_exception=False)
    sign_in_with_password(client, officer)
    verify_session(client, officer)
    assert client.get(route.url).status_code in {200, 404}, route
