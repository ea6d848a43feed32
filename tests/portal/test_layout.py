"""What every page's frame shows: the portal's name and where its links sit."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import verified_client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HEADER_NAME = re.compile(r'class="portal-header__name">([^<]*)<')


class TestPortalName:
    def test_sign_in_page_header_shows_the_portal_name_not_the_server(self):
        # Django's LoginView adds the current host as ``site_name``; the header
        # must still name the service (https://design-system.service.gov.uk/components/header/).
        page = Client().get(reverse("accounts:login")).content.decode()
        assert HEADER_NAME.search(page).group(1) == "CMARAC partner portal"
        assert "<title>" in page and "testserver" not in page

    def test_signed_in_pages_show_the_portal_name(self):
        client = verified_client_for(UserFactory(roles=["Referrers"]))
        page = client.get("/account/").content.decode()
        assert HEADER_NAME.search(page).group(1) == "CMARAC partner portal"


class TestBackLink:
    def test_back_link_sits_inside_a_landmark(self):
        # axe-core's "region" rule: content outside every landmark is missed by
        # people who move around a page by its landmarks.
        client = verified_client_for(UserFactory(roles=["Referrers"]))
        page = client.get(reverse("documents:new")).content.decode()
        back = page.index('class="govuk-back-link"')
        before = page[:back]
        assert before.rfind('<nav class="portal-back-link"') > before.rfind("</nav>")
        assert page.index("</nav>", back) < page.index('<main class="govuk-main')

    def test_pages_without_a_back_link_have_no_empty_landmark(self):
        client = verified_client_for(UserFactory(roles=["Referrers"]))
        page = client.get("/account/").content.decode()
        assert '<nav class="portal-back-link"' not in page
