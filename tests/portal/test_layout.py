"""What every page's frame shows: the portal's name and where its links sit."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template
from django.test import Client
from django.urls import reverse

from tests.conftest import verified_client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
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


class TestDataTables:
    def test_every_data_table_scrolls_in_its_own_labelled_region(self):
        # One place for the reflow rule (WCAG 1.4.10): every on-screen table
        # goes through {% data_table %}. PDFs and Wagtail's admin are laid out
        # by WeasyPrint and Wagtail.
        unwrapped = []
        for path in sorted(TEMPLATES.rglob("*.html")):
            parts = path.relative_to(TEMPLATES).parts
            if "pdf" in parts or "admin" in parts:
                continue
            text = path.read_text()
            tables = text.count("<table")
            # Numbered, or named for a table drawn apart from its page.
            wrapped = len(re.findall(r'{% data_table(?: "\w+")? %}<table', text))
            labelled = text.count('<caption id="{{ table_caption_id }}"')
            if not tables == wrapped == labelled:
                unwrapped.append(str(path.relative_to(TEMPLATES)))
        assert not unwrapped

    def test_each_region_is_named_by_its_own_tables_caption(self):
        template = Template(
            "{% load govuk %}{% for name in names %}{% data_table %}<table>"
            '<caption id="{{ table_caption_id }}">{{ name }}</caption>'
            "</table>{% end_data_table %}{% endfor %}"
        )
        html = template.render(Context({"names": ["One", "Two"]}))
        regions = re.findall(
            r'<div class="app-table-container" role="region" '
            r'aria-labelledby="([^"]+)" tabindex="0"><table>'
            r'<caption id="([^"]+)">(\w+)</caption></table></div>',
            html,
        )
        assert [name for *_, name in regions] == ["One", "Two"]
        assert all(label == caption for label, caption, _ in regions)
        assert regions[0][0] != regions[1][0]
