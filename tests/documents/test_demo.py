"""The demo shares and meeting resources that seed_demo loads."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from documents.models import FileDownload, PortalDocument, Share
from home.models import MeetingResourcesPage
from tests.conftest import verified_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(demo_seeded):
    return demo_seeded


def _client(username):
    return verified_client_for(User.objects.get(username=username))


class TestDemoShares:
    def test_the_police_see_that_housing_opened_their_file(self, seeded):
        assert "Created 5 demo file shares" in seeded
        share = Share.objects.get(sent_by__username="police.referrer")
        page = _client("police.referrer").get(share.get_absolute_url()).content
        page = page.decode()
        assert "Patrol log summary.pdf" in page
        assert "Every recipient organisation has opened it." in page
        assert FileDownload.objects.filter(file__share=share).count() == 1

    def test_the_council_has_a_new_file_waiting(self, seeded):
        page = _client("council.referrer").get(reverse("documents:index"))
        html = page.content.decode()
        assert "Noise diary October.csv" in html
        assert ">New</strong>" in html

    def test_the_recalled_share_cannot_be_downloaded(self, seeded):
        share = Share.objects.get(recalled_at__isnull=False)
        item = share.files.get()
        response = _client("fire.referrer").get(item.get_download_url())
        assert response.status_code == 404

    def test_seeding_again_adds_nothing(self, seeded):
        before = Share.objects.count(), PortalDocument.objects.count()
        call_command("seed_demo", stdout=StringIO())
        assert (Share.objects.count(), PortalDocument.objects.count()) == before


class TestDemoResources:
    def test_the_resources_page_links_the_private_terms_of_reference(self, seeded):
        page = MeetingResourcesPage.objects.get()
        document = PortalDocument.objects.get(title="CMARAC terms of reference")
        assert document.collection.get_view_restrictions().exists()
        client = _client("fire.referrer")
        html = client.get(page.url).content.decode()
        assert document.url in html
        response = client.get(document.url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content).startswith(b"%PDF")
