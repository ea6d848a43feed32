"""The case page's body (answers, partner summary, files, notes, history,
who can see the case) is rendered once per audience and shared for a minute
(referrals.views._kept_case_body, _case_material): each agency still sees
only what it may, each reader's forms carry their own CSRF token, and a
change shows at once, as does a share or restriction ending with time."""

import json
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from portal import page_cache
from referrals.models import CaseNote, Referral, ReferralShare, Status
from referrals.services import referral_restrict
from tests.conftest import verified_client_for
from tests.factories import UserFactory
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


def _travel(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


def test_a_note_kept_to_coordinators_never_reaches_an_agency(world):
    coordinator = world["people"][("C", "Coordinator")]
    CaseNote.objects.create(
        referral=world["referral"], text="Only for the coordinators",
        coordinators_only=True, author=coordinator, author_label="Coordinator",
    )  # fmt: skip
    # The coordinator's body is kept first; the agencies get their own.
    assert "Only for the coordinators" in _page(world, ("C", "Coordinator"))
    assert "Only for the coordinators" not in _page(world, ("B", "Referrer"))
    assert "Only for the coordinators" not in _page(world, ("A", "Referrer"))


def test_each_reader_posts_with_their_own_csrf_token(world):
    author = world["people"][("A", "Referrer")]
    assert "Withdraw the referral" in _page(world, ("A", "Referrer"))  # kept
    colleague = UserFactory(organisation=author.organisation, roles=[Role.REFERRER])
    client = verified_client_for(colleague)
    client.handler.enforce_csrf_checks = True
    page = client.get(world["referral"].get_absolute_url()).content.decode()
    assert page_cache.CSRF not in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    withdraw = reverse("referrals:withdraw", args=[world["referral"].reference])
    response = client.post(
        withdraw, {"csrfmiddlewaretoken": token, "reason": "Dealt with elsewhere"}
    )
    assert response.status_code == 302
    assert Referral.objects.get(pk=world["referral"].pk).status == Status.WITHDRAWN


def test_a_share_ending_within_the_minute_is_no_longer_listed(world):
    ends_at = timezone.now() + timedelta(seconds=30)
    # Written without a signal: no token is replaced, as when time passes.
    ReferralShare.objects.filter(referral=world["referral"]).update(ends_at=ends_at)
    client = verified_client_for(world["people"][("A", "Referrer")])
    url = world["referral"].get_absolute_url()
    assert "These other organisations can see it" in client.get(url).content.decode()
    with _travel(ends_at + timedelta(seconds=1)):
        page = client.get(url).content.decode()
    assert "No other organisation can see it now." in page


def test_a_restriction_ends_with_its_last_day(world):
    referral_restrict(
        referral=world["referral"], user=world["people"][("C", "Coordinator")],
        reason="The person asked", until=timezone.localdate(),
    )  # fmt: skip
    assert "Processing of this case is restricted" in _page(world, ("A", "Referrer"))
    with _travel(timezone.now() + timedelta(days=1)):
        page = _page(world, ("A", "Referrer"))
    assert "Processing of this case is restricted" not in page
