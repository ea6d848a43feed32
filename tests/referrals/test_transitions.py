"""The workflow's field rules are data (referrals/services/transitions.py):
the tables are consistent, and changing a row changes what a move needs,
keeps and does, with no code of its own per status."""

import pytest

from referrals.models import EventKind, Referral, Status
from referrals.services import (
    ARRIVALS,
    CLOSING,
    NEEDS_REASON,
    TRANSITIONS,
    Arrival,
    ReferralRefused,
    referral_transition,
)
from referrals.services.transitions import TEXTS
from tests.referrals import test_workflow

pytestmark = pytest.mark.django_db

# The workflow tests' fixtures, bound here so pytest finds them.
referrer = test_workflow.referrer
coordinator = test_workflow.coordinator
referral = test_workflow.referral
put_at = test_workflow.put_at

REACHABLE = {end for ends in TRANSITIONS.values() for end in ends}
REFERRAL_FIELDS = {model_field.name for model_field in Referral._meta.get_fields()}


def test_every_status_a_move_reaches_has_its_rules():
    assert set(ARRIVALS) == REACHABLE


@pytest.mark.parametrize("status", sorted(ARRIVALS), ids=str)
def test_each_rule_asks_only_for_texts_it_takes_and_keeps_them_on_fields(status):
    arrival = ARRIVALS[status]
    assert set(arrival.takes) <= set(TEXTS)
    assert "reason" in arrival.takes  # every move may say why
    assert set(arrival.required) <= set(arrival.takes)
    assert set(arrival.kept) <= set(arrival.takes)
    assert set(arrival.kept.values()) <= REFERRAL_FIELDS


def test_the_derived_lists_follow_the_table():
    assert CLOSING == (
        Status.REDIRECTED,
        Status.DECLINED,
        Status.CLOSED,
        Status.WITHDRAWN,
    )
    assert set(NEEDS_REASON) == {
        Status.INFORMATION_REQUESTED,
        Status.REDIRECTED,
        Status.DECLINED,
        Status.CLOSED,
        Status.WITHDRAWN,
    }


class TestTheTableDrivesTheMove:
    def test_a_text_a_row_requires_is_asked_for(
        self, referral, coordinator, monkeypatch
    ):
        put_at(referral, Status.SCREENING)
        monkeypatch.setitem(
            ARRIVALS,
            Status.ACCEPTED,
            Arrival(required={"reason": "Enter why the referral is accepted"}),
        )
        with pytest.raises(ReferralRefused, match="Enter why the referral is"):
            referral_transition(
                referral=referral,
                to_status=Status.ACCEPTED,
                user=coordinator,
                expected_status=Status.SCREENING,
            )
        referral.refresh_from_db()
        assert referral.status == Status.SCREENING

    def test_a_text_a_row_keeps_is_stored_and_others_are_dropped(
        self, referral, coordinator, monkeypatch
    ):
        put_at(referral, Status.SCREENING)
        monkeypatch.setitem(
            ARRIVALS,
            Status.DECLINED,
            Arrival(
                takes=("reason", "feedback"),
                kept={"reason": "outcome_reason", "feedback": "feedback"},
                event=EventKind.INFORMATION_REQUESTED,
            ),
        )
        referral_transition(
            referral=referral,
            to_status=Status.DECLINED,
            user=coordinator,
            expected_status=Status.SCREENING,
            reason="Below the threshold.",
            redirected_to="Typed, then another outcome chosen",
            feedback="Thank you for the referral.",
        )
        referral.refresh_from_db()
        assert referral.status == Status.DECLINED
        assert referral.outcome_reason == "Below the threshold."
        assert referral.feedback == "Thank you for the referral."
        assert referral.redirected_to == ""
        event = referral.events.last()
        assert event.kind == EventKind.INFORMATION_REQUESTED
        assert event.message == (
            "Below the threshold.\n\nFeedback to the referrer: Thank you for the "
            "referral."
        )
