"""The demo has a single point of contact part-way through an access review."""

import pytest
from django.urls import reverse

from accounts.models import AccountRequest, EntryStatus, RecertificationRound, User
from tests.conftest import verified_client_for

pytestmark = pytest.mark.django_db


def test_the_council_review_is_in_progress(demo_seeded):
    round_ = RecertificationRound.objects.get(organisation__slug="council")
    assert round_.is_open
    statuses = sorted(round_.entries.values_list("status", flat=True))
    # Everyone at the council but its contact is reviewed: the caseworker is
    # confirmed; the others (among them the demo's data protection officer
    # and board member, who work there) wait.
    assert statuses == [EntryStatus.CONFIRMED] + [EntryStatus.PENDING] * 4
    assert AccountRequest.objects.filter(organisation__slug="council").exists()
    assert "sign in as council.signatory" in demo_seeded

    contact = User.objects.get(username="council.signatory")
    page = verified_client_for(contact).get(reverse("accounts:recertification"))
    assert page.status_code == 200
    assert "Already answered" in page.content.decode()
