"""The case page's answers, partner summary and files are rendered once per
audience and shared for a minute (referrals.views._case_material): each
agency still sees only what it may, and a change shows at once."""

import json

import pytest

from referrals.models import Referral
from tests.conftest import verified_client_for
from tests.referrals.test_redaction import RESTRICTED_NAME, SHARED_NAME, world

__all__ = ["world"]

pytestmark = pytest.mark.django_db


def _page(world, key) -> str:
    client = verified_client_for(world["people"][key])
    response = client.get(world["referral"].get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_each_agency_is_shown_its_own_view_of_the_case(world):
    # The coordinator's page is rendered first and kept; the invited agency
    # must not be given it, and the referrer still sees everything.
    assert RESTRICTED_NAME in _page(world, ("C", "Coordinator"))
    invited = _page(world, ("B", "Referrer"))
    assert SHARED_NAME in invited
    assert RESTRICTED_NAME not in invited
    assert RESTRICTED_NAME in _page(world, ("A", "Referrer"))
    assert RESTRICTED_NAME not in _page(world, ("B", "Referrer"))


def test_an_answer_changed_without_a_signal_shows_at_once(world):
    referral = world["referral"]
    assert "Sam Referrer" in _page(world, ("A", "Referrer"))
    changed = json.loads(
        json.dumps(referral.answers).replace("Sam Referrer", "Samira Changed")
    )
    # QuerySet.update sends no signal, so no freshness token is replaced.
    Referral.objects.filter(pk=referral.pk).update(answers=changed)

    page = _page(world, ("A", "Referrer"))

    assert "Samira Changed" in page
    assert "Sam Referrer" not in page


def test_a_file_taken_off_the_case_is_no_longer_listed(world):
    assert SHARED_NAME in _page(world, ("B", "Referrer"))
    referral = world["referral"]
    referral.attachments.all().delete()
    page = _page(world, ("B", "Referrer"))
    assert SHARED_NAME not in page
