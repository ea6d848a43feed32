"""Error pages in plain language, and a 500 page that needs nothing to render."""

import pytest
from django.test import Client, RequestFactory

from portal.errors import server_error
from tests.conftest import sign_in_with_password, verify_session
from tests.factories import TOTPDeviceFactory, UserFactory

UNKNOWN = "/no-such-page/"
NOT_FOUND = "Page not found"
PROBLEM = "Sorry, there is a problem with the service"


@pytest.mark.django_db
class TestPageNotFound:
    def test_unknown_address_shows_the_not_found_page(self, verified_client):
        response = verified_client.get(UNKNOWN)
        assert response.status_code == 404
        page = response.content.decode()
        assert f'<h1 class="govuk-heading-l">{NOT_FOUND}</h1>' in page
        assert "check it is correct" in page
        assert 'href="/"' in page

    def test_unknown_address_deep_in_a_section_is_also_not_found(self, verified_client):
        response = verified_client.get("/account/no-such-thing/")
        assert response.status_code == 404
        assert NOT_FOUND in response.content.decode()

    def test_not_found_page_keeps_the_portal_frame(self, verified_client, user):
        page = verified_client.get(UNKNOWN).content.decode()
        assert "OFFICIAL-SENSITIVE" in page
        assert "Sign out" in page
        assert user.last_name in page

    def test_anonymous_visitor_is_sent_to_sign_in_not_told_what_exists(self, client):
        # Whether a page exists is itself information for partners only.
        response = client.get(UNKNOWN)
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/")


class TestServerError:
    def test_renders_the_problem_page_without_user_or_database(self, django_db_blocker):
        request = RequestFactory().get("/anything/")
        assert not hasattr(request, "user")
        with django_db_blocker.block():
            response = server_error(request)
        assert response.status_code == 500
        page = response.content.decode()
        assert f'<h1 class="govuk-heading-l">{PROBLEM}</h1>' in page
        assert "Try again later" in page
        assert "Traceback" not in page

    def test_problem_page_shows_no_account_links(self, django_db_blocker):
        with django_db_blocker.block():
            page = server_error(RequestFactory().get("/")).content.decode()
        assert "Sign out" not in page
        assert "Your account" not in page

    @pytest.mark.django_db
    def test_a_failing_view_shows_the_problem_page(self):
        # Wagtail's admin has a view that fails on purpose to test reporting.
        person = UserFactory(is_superuser=True)
        TOTPDeviceFactory(user=person)
        client = Client(raise_request_exception=False)
        sign_in_with_password(client, person)
        verify_session(client, person)
        response = client.get("/admin/failwhale/")
        assert response.status_code == 500
        assert PROBLEM in response.content.decode()
