"""The screening workflow: only the moves in TRANSITIONS, by coordinators, with
reasons where a reason is owed, and each move in the referral's history."""

import pytest
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from referrals.models import EventKind, Referral, ReferralDraft, Status
from referrals.services import (
    NEEDS_REASON,
    TRANSITIONS,
    ReferralRefused,
    draft_start,
    information_provide,
    referral_submit,
    referral_transition,
    screening_next,
)
from tests.factories import UserFactory
from tests.factories.referrals import complete_answers

pytestmark = pytest.mark.django_db

# The coordinator's moves; withdrawing is the referrer's (test_withdraw.py).
ALLOWED = [(start, end) for start in TRANSITIONS for end in screening_next(start)]

# Everything a coordinator might have to say, for whichever move needs it.
SAY = {
    "reason": "Checked with the police: the case meets the threshold.",
    "redirected_to": "Domestic abuse MARAC",
    "feedback": "Closed after the actions were completed.",
}


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER])


@pytest.fixture
def coordinator():
    return UserFactory(roles=[Role.COORDINATOR], first_name="Chris", last_name="Coord")


@pytest.fixture
def referral(referrer):
    # Straight to a complete draft: how it was typed does not matter here, and
    # saving section by section would make each of these tests much slower.
    draft = draft_start(user=referrer)
    ReferralDraft.objects.filter(pk=draft.pk).update(answers=complete_answers())
    return referral_submit(draft=draft, user=referrer)[0]


def put_at(referral, status) -> Referral:
    Referral.objects.filter(pk=referral.pk).update(status=status)
    referral.refresh_from_db()
    return referral


def snapshot(referral):
    referral.refresh_from_db()
    return (
        referral.status,
        referral.status_changed_at,
        referral.outcome_reason,
        referral.redirected_to,
        referral.feedback,
        referral.events.count(),
        AuditEvent.objects.filter(action="referral.status_changed").count(),
    )


def test_every_status_has_its_list_of_next_steps():
    assert set(TRANSITIONS) == set(Status)
    assert set(NEEDS_REASON) - {Status.WITHDRAWN} <= {end for _, end in ALLOWED}


class TestAllowedMoves:
    @pytest.mark.parametrize(("start", "end"), ALLOWED, ids=lambda s: str(s.value))
    def test_each_allowed_move_is_made_and_recorded(
        self, referral, coordinator, start, end
    ):
        put_at(referral, start)
        before = timezone.now()
        moved = referral_transition(
            referral=referral,
            to_status=end,
            user=coordinator,
            expected_status=start,
            **SAY,
        )
        referral.refresh_from_db()
        assert moved.status == referral.status == end
        assert referral.status_changed_at >= before

        event = referral.events.last()
        assert (event.from_status, event.to_status) == (start, end)
        assert event.kind == (
            EventKind.INFORMATION_REQUESTED
            if end == Status.INFORMATION_REQUESTED
            else EventKind.TRANSITION
        )
        assert event.actor == coordinator
        assert event.actor_label == "Chris Coord"
        assert event.organisation_label == str(coordinator.organisation)
        assert event.at >= before
        assert SAY["reason"] in event.message

        audit = AuditEvent.objects.filter(action="referral.status_changed").last()
        assert audit.actor == coordinator
        assert audit.object_id == str(referral.pk)
        assert audit.detail == {"from": start, "to": end}

    def test_a_redirect_keeps_where_and_why(self, referral, coordinator):
        put_at(referral, Status.SCREENING)
        referral_transition(
            referral=referral,
            to_status=Status.REDIRECTED,
            user=coordinator,
            expected_status=Status.SCREENING,
            reason="  Domestic abuse case. ",
            redirected_to=" Domestic abuse MARAC ",
        )
        referral.refresh_from_db()
        assert referral.redirected_to == "Domestic abuse MARAC"
        assert referral.outcome_reason == "Domestic abuse case."
        assert referral.events.last().message == (
            "Redirected to: Domestic abuse MARAC\n\nDomestic abuse case."
        )

    def test_closing_keeps_the_reason_and_the_feedback(self, referral, coordinator):
        put_at(referral, Status.ACCEPTED)
        referral_transition(
            referral=referral,
            to_status=Status.CLOSED,
            user=coordinator,
            expected_status=Status.ACCEPTED,
            reason="Actions completed.",
            feedback="Thank you: the panel's actions are done.",
        )
        referral.refresh_from_db()
        assert referral.outcome_reason == "Actions completed."
        assert referral.feedback == "Thank you: the panel's actions are done."
        assert not referral.is_open

    def test_a_move_needing_no_reason_takes_none(self, referral, coordinator):
        referral_transition(
            referral=referral,
            to_status=Status.SCREENING,
            user=coordinator,
            expected_status=Status.SUBMITTED,
        )
        assert referral.events.last().message == ""

    @pytest.mark.parametrize(
        "end", [Status.ACCEPTED, Status.DECLINED, Status.INFORMATION_REQUESTED]
    )
    def test_fields_for_other_outcomes_are_not_kept(self, referral, coordinator, end):
        # The status form posts every field: a panel typed before choosing
        # another outcome is not the referral's history.
        put_at(referral, Status.SCREENING)
        referral_transition(
            referral=referral,
            to_status=end,
            user=coordinator,
            expected_status=Status.SCREENING,
            **SAY,
        )
        referral.refresh_from_db()
        assert referral.events.last().message == SAY["reason"]
        assert referral.redirected_to == ""
        assert referral.feedback == ""


class TestRefusedMoves:
    @pytest.mark.parametrize("start", list(Status), ids=lambda s: str(s.value))
    def test_every_move_not_in_the_list_is_refused_and_changes_nothing(
        self, referral, coordinator, start
    ):
        put_at(referral, start)
        before = snapshot(referral)
        refused = [end for end in Status if end not in screening_next(start)]
        assert refused
        for end in refused:
            with pytest.raises(ReferralRefused) as error:
                referral_transition(
                    referral=referral,
                    to_status=end,
                    user=coordinator,
                    expected_status=start,
                    **SAY,
                )
            assert str(error.value) == (
                f"A referral that is '{Status(start).label}' cannot be moved to "
                f"'{Status(end).label}'."
            )
            assert snapshot(referral) == before

    @pytest.mark.parametrize(
        ("start", "end"),
        [(s, e) for s, e in ALLOWED if e in NEEDS_REASON],
        ids=lambda s: str(s.value),
    )
    @pytest.mark.parametrize("reason", ["", "   \n "])
    def test_a_reason_is_needed_where_one_is_owed(
        self, referral, coordinator, start, end, reason
    ):
        put_at(referral, start)
        before = snapshot(referral)
        with pytest.raises(ReferralRefused) as error:
            referral_transition(
                referral=referral,
                to_status=end,
                user=coordinator,
                expected_status=start,
                **{**SAY, "reason": reason},
            )
        assert str(error.value) == NEEDS_REASON[end]
        assert snapshot(referral) == before

    def test_a_redirect_must_say_where_to(self, referral, coordinator):
        put_at(referral, Status.SCREENING)
        with pytest.raises(ReferralRefused, match="Enter which panel"):
            referral_transition(
                referral=referral,
                to_status=Status.REDIRECTED,
                user=coordinator,
                expected_status=Status.SCREENING,
                reason="Not ours.",
            )

    def test_closing_needs_feedback_for_the_referrer(self, referral, coordinator):
        put_at(referral, Status.ACCEPTED)
        with pytest.raises(ReferralRefused, match="Enter the feedback"):
            referral_transition(
                referral=referral,
                to_status=Status.CLOSED,
                user=coordinator,
                expected_status=Status.ACCEPTED,
                reason="Done.",
                feedback=" ",
            )

    def test_a_stale_page_is_refused(self, referral, coordinator):
        colleague = UserFactory(roles=[Role.COORDINATOR])
        referral_transition(
            referral=referral,
            to_status=Status.SCREENING,
            user=colleague,
            expected_status=Status.SUBMITTED,
        )
        before = snapshot(referral)
        # The coordinator still sees "Submitted" and moves it on from there.
        with pytest.raises(ReferralRefused) as error:
            referral_transition(
                referral=referral,
                to_status=Status.SCREENING,
                user=coordinator,
                expected_status=Status.SUBMITTED,
            )
        assert str(error.value) == (
            "Someone else changed this referral to 'Screening' while you were "
            "looking at it. Check the latest details before you change it."
        )
        assert snapshot(referral) == before

    @pytest.mark.parametrize("to_status", ["", "approved", "SCREENING"])
    def test_a_status_that_does_not_exist_is_refused(
        self, referral, coordinator, to_status
    ):
        before = snapshot(referral)
        with pytest.raises(ReferralRefused, match="Select a new status"):
            referral_transition(
                referral=referral,
                to_status=to_status,
                user=coordinator,
                expected_status=Status.SUBMITTED,
            )
        assert snapshot(referral) == before

    @pytest.mark.parametrize(
        "who",
        [
            {"roles": [Role.REFERRER]},
            {"roles": [Role.SIGNATORY]},
            {"roles": [Role.EDITOR]},
            {"roles": [], "organisation": None, "is_superuser": True},
            {"roles": [Role.COORDINATOR], "is_active": False},
        ],
        ids=["referrer", "signatory", "editor", "administrator", "inactive"],
    )
    def test_only_active_coordinators_change_a_status(self, referral, who):
        person = UserFactory(**who)
        before = snapshot(referral)
        with pytest.raises(ReferralRefused) as error:
            referral_transition(
                referral=referral,
                to_status=Status.SCREENING,
                user=person,
                expected_status=Status.SUBMITTED,
            )
        assert str(error.value) == "Only coordinators can change a referral's status."
        assert snapshot(referral) == before


class TestReferrerIsTold:
    @pytest.mark.parametrize(("start", "end"), ALLOWED, ids=lambda s: str(s.value))
    def test_the_referrer_hears_of_news_without_details(
        self,
        referral,
        referrer,
        coordinator,
        start,
        end,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        put_at(referral, start)
        with django_capture_on_commit_callbacks(execute=True):
            referral_transition(
                referral=referral,
                to_status=end,
                user=coordinator,
                expected_status=start,
                **SAY,
            )
        if end == Status.SCREENING:
            assert mailoutbox == []
            return
        (message,) = mailoutbox
        assert message.to == [referrer.email]
        assert message.subject == f"Update on referral {referral.reference}"
        assert f"It is now: {Status(end).label}" in message.body
        for said in SAY.values():
            assert said not in message.body


class TestInformationProvided:
    @pytest.fixture
    def waiting(self, referral, coordinator):
        put_at(referral, Status.SCREENING)
        referral_transition(
            referral=referral,
            to_status=Status.INFORMATION_REQUESTED,
            user=coordinator,
            expected_status=Status.SCREENING,
            reason="What did the housing officer see?",
        )
        referral.refresh_from_db()
        return referral

    def test_the_referring_organisation_answers_and_it_goes_back_to_screening(
        self,
        waiting,
        referrer,
        coordinator,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        colleague = UserFactory(
            organisation=referrer.organisation, roles=[Role.REFERRER]
        )
        with django_capture_on_commit_callbacks(execute=True):
            information_provide(
                referral=waiting, user=colleague, message="  Damage to the door. "
            )
        waiting.refresh_from_db()
        assert waiting.status == Status.SCREENING
        event = waiting.events.last()
        assert event.kind == EventKind.INFORMATION_PROVIDED
        assert (event.from_status, event.to_status) == (
            Status.INFORMATION_REQUESTED,
            Status.SCREENING,
        )
        assert event.actor == colleague
        assert event.message == "Damage to the door."
        audit = AuditEvent.objects.get(action="referral.information_provided")
        assert audit.actor == colleague
        assert audit.object_id == str(waiting.pk)
        # The coordinators hear that it is back, without what was said.
        (message,) = mailoutbox
        assert message.to == [coordinator.email]
        assert message.subject == (
            f"Information provided for referral {waiting.reference}"
        )
        assert "Damage to the door" not in message.body

    def test_another_organisation_cannot_answer(self, waiting):
        outsider = UserFactory(roles=[Role.REFERRER])
        with pytest.raises(ReferralRefused, match="Only staff of the referring"):
            information_provide(referral=waiting, user=outsider, message="Hello")
        waiting.refresh_from_db()
        assert waiting.status == Status.INFORMATION_REQUESTED

    def test_only_referrers_of_that_organisation_answer(self, waiting, referrer):
        signatory = UserFactory(
            organisation=referrer.organisation, roles=[Role.SIGNATORY]
        )
        with pytest.raises(ReferralRefused, match="Only staff of the referring"):
            information_provide(referral=waiting, user=signatory, message="Hello")

    def test_an_answer_must_say_something(self, waiting, referrer):
        with pytest.raises(
            ReferralRefused, match="Enter the information the coordinator asked for"
        ):
            information_provide(referral=waiting, user=referrer, message="  ")

    @pytest.mark.parametrize(
        "status",
        [s for s in Status if s != Status.INFORMATION_REQUESTED],
        ids=lambda s: str(s.value),
    )
    def test_no_answer_when_none_was_asked_for(self, referral, referrer, status):
        put_at(referral, status)
        events = referral.events.count()
        with pytest.raises(ReferralRefused) as error:
            information_provide(referral=referral, user=referrer, message="Hello")
        assert str(error.value) == (
            "The coordinator is not waiting for information on this referral now. "
            "Your answer was not sent."
        )
        referral.refresh_from_db()
        assert referral.status == status
        assert referral.events.count() == events
