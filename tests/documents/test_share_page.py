"""What the page of one share says to the people who may open it."""

import pytest

from tests.conftest import verified_client_for
from tests.factories import three_agencies
from tests.factories.documents import shared, upload

pytestmark = pytest.mark.django_db

SCANNER_NOTE = "no virus scanner configured"


@pytest.fixture
def world():
    people = three_agencies()
    b = people[("B", "Referrer")].organisation
    # Test settings name no scanner, so the file is stored "not scanned".
    share = shared(people[("A", "Referrer")], [b], files=[upload("Visit.pdf")])
    return {"people": people, "share": share}


class TestScanStatus:
    @pytest.mark.parametrize(
        "who", [("A", "Referrer"), ("B", "Referrer"), ("C", "Coordinator")]
    )
    def test_people_at_agencies_are_not_told_how_the_server_is_set_up(self, world, who):
        client = verified_client_for(world["people"][who])
        response = client.get(world["share"].get_absolute_url())
        assert response.status_code == 200
        page = response.content.decode()
        assert "Visit.pdf" in page
        assert SCANNER_NOTE not in page.lower()

    def test_administrators_see_that_the_file_was_not_scanned(self, world):
        # A superuser at a party organisation: one without an organisation is
        # kept out of case material by the agreement gate.
        admin = world["people"][("A", "Referrer")]
        admin.is_superuser = True
        admin.save(update_fields=["is_superuser"])
        client = verified_client_for(admin)
        page = client.get(world["share"].get_absolute_url()).content.decode()
        assert "not scanned (no virus scanner configured)" in page


class TestWhoOpenedTheFiles:
    def test_a_file_nobody_opened_gets_a_sentence_not_an_empty_table(self, world):
        client = verified_client_for(world["people"][("A", "Referrer")])
        page = client.get(world["share"].get_absolute_url()).content.decode()
        assert "Nobody has opened this file yet." in page
        assert "<table" not in page
