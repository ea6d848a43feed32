"""The second-factor gate's exceptions, and the Wagtail admin for people
who may not use it."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent, Outcome
from tests.conftest import sign_in_with_password, verified_client_for
from tests.factories import TOTPDeviceFactory, UserFactory

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:verify")

# Wagtail's admin JavaScript fetches these on the verify page too.
ADMIN_ASSETS = ["/admin/sprite/", "/admin/jsi18n/"]
# Paths that look like them but are not them: each reached Wagtail's admin 404
# page on a password alone while the gate let through anything starting with
# an asset's path.
LOOKALIKES = [
    "/admin/sprite/../anything/",
    "/admin/sprite/../pages/",
    "/admin/sprite/x/",
    "/admin/sprite//",
    "/admin/sprite-foo/",
    "/admin/jsi18n/../",
    "/admin/jsi18n/extra/",
    "/admin/sprite/../anything",
]

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["Referrers", "Coordinators"])
def password_only(request):
    """Signed in with a password only, without and with Wagtail admin access."""
    person = UserFactory(roles=[request.param])
    TOTPDeviceFactory(user=person)
    client = Client()
    sign_in_with_password(client, person)
    return client


class TestAdminAssets:
    @pytest.mark.parametrize("url", ADMIN_ASSETS)
    def test_the_verify_pages_assets_load_on_a_password_alone(self, password_only, url):
        assert password_only.get(url).status_code == 200

    @pytest.mark.parametrize("url", LOOKALIKES)
    def test_anything_else_on_a_password_alone_goes_to_the_second_factor(
        self, password_only, url
    ):
        response = password_only.get(url, follow=True)
        assert response.redirect_chain, url
        assert urlsplit(response.redirect_chain[-1][0]).path == VERIFY, url
        assert response.status_code == 200

    @pytest.mark.parametrize("url", LOOKALIKES)
    def test_anything_else_anonymously_goes_to_sign_in(self, client, url):
        response = client.get(url, follow=True)
        assert urlsplit(response.redirect_chain[-1][0]).path == LOGIN, url


class TestAdminWithoutAdminAccess:
    """Wagtail sends people without admin access to sign in, and signing in
    sends a signed-in person back: the browser gave up with too many redirects."""

    @pytest.fixture(params=[Role.REFERRER, Role.SIGNATORY])
    def person(self, request):
        return UserFactory(roles=[request.param])

    @pytest.mark.parametrize("url", ["/admin/", "/admin/pages/", "/admin/nowhere/"])
    def test_one_refusal_page_with_a_link_home(self, person, url):
        client = verified_client_for(person)
        response = client.get(url, follow=True)
        assert response.redirect_chain == []
        assert response.status_code == 403
        page = response.content.decode()
        assert "You do not have access to the admin" in page
        assert '<a class="govuk-link" href="/">' in page
        assert "no-store" in response["Cache-Control"]

    def test_the_refusal_is_audited_as_denied(self, person):
        verified_client_for(person).get("/admin/pages/")
        event = AuditEvent.objects.get(action="auth.admin_refused")
        assert event.outcome == Outcome.DENIED
        assert event.actor == person
        assert event.detail == {"path": "/admin/pages/"}

    def test_the_sign_in_page_does_not_send_them_back_to_the_admin(self, person):
        client = verified_client_for(person)
        response = client.get(f"{LOGIN}?next=/admin/", follow=True)
        assert len(response.redirect_chain) == 1
        assert response.status_code == 403

    def test_people_with_admin_access_still_reach_the_admin(self):
        for role in (Role.COORDINATOR, Role.EDITOR):
            client = verified_client_for(UserFactory(roles=[role]))
            assert client.get("/admin/").status_code == 200
        assert not AuditEvent.objects.filter(action="auth.admin_refused").exists()
