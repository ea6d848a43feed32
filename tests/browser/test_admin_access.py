"""People without admin access who open the admin, in Chromium.

Wagtail sent them to sign in, and the sign-in page sent a signed-in person
back: Chromium gave up with "too many redirects". They now get one plain page
that says so and leads home, also when they come to it through sign-in.
"""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.conftest import current_code
from tests.factories import TOTPDeviceFactory, UserFactory

from .conftest import assert_accessible
from .test_sign_in import enter_password, enter_security_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFUSED = "You do not have access to the admin"


@pytest.mark.parametrize("role", [Role.REFERRER, Role.SIGNATORY])
def test_the_admin_says_no_plainly_and_leads_home(page, live_server, role):
    person = UserFactory(roles=[role], first_name="Robin")
    device = TOTPDeviceFactory(user=person)
    enter_password(page, live_server.url, person.username)
    enter_security_code(page, current_code(device))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Robin")

    # A loop would make goto fail with net::ERR_TOO_MANY_REDIRECTS.
    for address in ("/admin/", "/admin/pages/", "/sign-in/?next=/admin/"):
        response = page.goto(f"{live_server.url}{address}")
        assert response.status == 403, address
        expect(page.get_by_role("heading", level=1)).to_have_text(REFUSED)
    assert_accessible(page)

    page.get_by_role("link", name="Go to the portal home page").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Robin")
