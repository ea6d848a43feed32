"""The second-factor gate's exceptions."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import sign_in_with_password
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
