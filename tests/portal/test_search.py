"""Any text searches safely (portal.search), in the portal and in the admin,
on SQLite's full-text search and on PostgreSQL alike."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from wagtail.documents import get_document_model

from accounts.models import Role
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.guidance import guidance

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer_client():
    return verified_client_for(UserFactory(roles=[Role.REFERRER]))


@pytest.fixture
def page():
    return guidance(
        title="Cuckooing", body=[("text", '<p>Also called "home invasion".</p>')]
    )


@pytest.mark.parametrize(
    "query", ['"', '""', 'O"Brien', '"unclosed', "a AND (b", "NEAR(x y) ^ * : -"]
)
def test_quotes_and_search_syntax_are_plain_text(referrer_client, page, query):
    response = referrer_client.get(reverse("search"), {"q": query})
    assert response.status_code == 200
    assert "Sorry, there is a problem" not in response.content.decode()


@pytest.mark.parametrize("query", ['"cuckooing"', 'cuckooing"', '"home invasion"'])
def test_words_in_quotes_are_still_found(referrer_client, page, query):
    response = referrer_client.get(reverse("search"), {"q": query})
    assert response.status_code == 200
    assert ">Cuckooing</a>" in response.content.decode()


def test_the_admin_searches_safely_too(page):
    get_document_model().objects.create(
        title="Terms of reference", file=ContentFile(b"%PDF-1.7", name="terms.pdf")
    )
    admin = verified_client_for(UserFactory(is_superuser=True, organisation=None))
    for url in ("/admin/documents/", "/admin/pages/search/", "/admin/images/"):
        assert admin.get(url, {"q": '"'}).status_code == 200, url
    found = admin.get("/admin/documents/", {"q": '"terms"'}).content.decode()
    assert "Terms of reference" in found


@pytest.mark.parametrize("query", ["a\x00b", "\x00"])
def test_a_nul_character_is_a_bad_request_not_a_failure(referrer_client, query):
    response = referrer_client.get(reverse("search"), {"q": query})
    assert response.status_code == 400
    assert "There is a problem with the page address" in response.content.decode()
