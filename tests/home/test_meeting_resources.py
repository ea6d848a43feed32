"""The meeting resources page: editors draft it, coordinators publish it,
verified partners read it."""

import pytest
from django.core.files.base import ContentFile
from wagtail.documents import get_document_model
from wagtail.models import Page

from accounts.models import Role
from home.models import HomePage, MeetingResourcesPage
from tests.conftest import verified_client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def resources_page():
    editor = UserFactory(roles=[Role.EDITOR])
    document = get_document_model().objects.create(
        title="CMARAC terms of reference",
        file=ContentFile(b"%PDF-1.7 terms", name="terms.pdf"),
        uploaded_by_user=editor,
    )
    page = MeetingResourcesPage(
        title="Meeting resources",
        slug="meeting-resources",
        introduction="<p>What every member agency needs for meetings.</p>",
        body="<h2>Apologies</h2><p>Send apologies to the coordinator.</p>",
        resources=[
            (
                "document",
                {
                    "document": document,
                    "title": "",
                    "description": "Read before your first meeting.",
                },
            )
        ],
        owner=editor,
    )
    page.live = False
    HomePage.objects.get().add_child(instance=page)
    # Editors draft; a coordinator approves, which publishes (home.permissions).
    revision = page.save_revision(user=editor)
    revision.publish(user=UserFactory(roles=[Role.COORDINATOR]))
    page.refresh_from_db()
    return page, document


class TestMeetingResourcesPage:
    def test_renders_for_a_verified_partner(self, resources_page):
        page, document = resources_page
        client = verified_client_for(UserFactory(roles=[Role.REFERRER]))
        response = client.get(page.url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "Meeting resources" in html
        assert "Send apologies to the coordinator." in html
        assert f'href="{document.url}">CMARAC terms of reference</a>' in html
        assert "Read before your first meeting." in html

    def test_anonymous_is_sent_to_sign_in(self, client, resources_page):
        page, _ = resources_page
        response = client.get(page.url)
        assert response.status_code == 302
        assert "Send apologies" not in response.content.decode()

    def test_lives_under_the_home_page_only(self):
        assert MeetingResourcesPage.can_create_at(HomePage.objects.get())
        assert not MeetingResourcesPage.can_create_at(Page.get_first_root_node())
