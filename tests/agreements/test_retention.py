"""Retention periods are data of the ISA: frozen with each version, shown in
its text and its changes, and the schedule in force on a day is that
version's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from agreements.retention import retention_in_force
from agreements.selectors import version_diff
from tests.factories.agreements import agreement_tree, publish_change

pytestmark = pytest.mark.django_db


def test_periods_are_frozen_with_each_version_and_diffed():
    _, isa, _, coordinator = agreement_tree()
    first = isa.latest_version
    assert first.retention == {
        "case_months": 24,
        "shared_file_months": 24,
        "meeting_months": 24,
        "audit_years": 6,
    }
    assert "Retention: Case material: 24 months after the case closes" in (
        first.canonical_text
    )

    def shorter(draft):
        draft.case_retention_months = 18

    isa = publish_change(isa, coordinator, number="1.1", edit=shorter)
    second = isa.latest_version
    assert second.retention["case_months"] == 18
    assert first.content_hash != second.content_hash
    changes = [c for c in version_diff(first, second) if c.change != "unchanged"]
    assert [c.heading for c in changes] == ["Retention periods"]
    assert "<del>24</del> <ins>18</ins>" in str(changes[0].diff_html)
    # The first version is unchanged: frozen.
    first.refresh_from_db()
    assert first.retention["case_months"] == 24


def test_schedule_in_force_follows_the_version_dates():
    _, isa, _, coordinator = agreement_tree()
    today = timezone.localdate()
    assert retention_in_force(today - timedelta(days=1)) is None  # not yet published
    assert retention_in_force(today).case_months == 24

    def later_and_shorter(draft):
        draft.case_retention_months = 18
        draft.effective_date = today + timedelta(days=10)

    publish_change(isa, coordinator, number="1.1", edit=later_and_shorter)
    assert retention_in_force(today + timedelta(days=9)).case_months == 24
    schedule = retention_in_force(today + timedelta(days=10))
    assert schedule.case_months == 18 and schedule.version_label.endswith("v1.1")


def test_the_agreement_page_shows_the_periods(client):
    from tests.conftest import verified_client_for
    from tests.factories import UserFactory

    _, isa, organisations, _ = agreement_tree()
    reader = UserFactory(organisation=organisations[0], roles=["Referrers"])
    response = verified_client_for(reader).get(isa.url)
    assert "Case material: 24 months after the case closes" in response.content.decode()
