"""A NUL character in anything typed into a referral is refused next to the
answer that holds it, and nothing is lost or broken (PostgreSQL cannot store
one; on SQLite these ran already).
"""

import pytest
from django.urls import reverse

from accounts.models import Role
from portal.forms import NULL_CHARACTER_MESSAGE
from referrals.models import ReferralDraft, Status
from referrals.services import draft_start, referral_transition
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER])


@pytest.fixture
def coordinator():
    return UserFactory(roles=[Role.COORDINATOR])


@pytest.fixture
def draft(referrer):
    return draft_start(user=referrer)


def _section(draft, slug):
    return reverse("referrals:section", args=[draft.public_id, slug])


class TestDraftAnswers:
    @pytest.mark.parametrize(
        ("slug", "answers", "field"),
        [
            # A text box, a set of check boxes, a date in three boxes and a
            # single check box: Django refuses NUL only in the first.
            ("referrer", {"name": "Al\x00ex"}, "id_name"),
            ("eligibility", {"vulnerable": ["\x00"]}, "id_vulnerable_0"),
            (
                "referral-type",
                {"last_cmarac_date_0": "1\x00", "last_cmarac_date_1": "2"},
                "id_last_cmarac_date_0",
            ),
            ("consent", {"section_115": "on\x00"}, "id_section_115"),
        ],
    )
    def test_refused_next_to_the_answer_and_nothing_is_saved(
        self, referrer, draft, slug, answers, field
    ):
        before = ReferralDraft.objects.get(pk=draft.pk).answers
        response = verified_client_for(referrer).post(
            _section(draft, slug), {**answers, "action": "save"}
        )
        assert response.status_code == 400
        page = response.content.decode()
        # In the error summary, linked to the field, and next to the field.
        assert f'href="#{field}">{NULL_CHARACTER_MESSAGE}' in page
        assert page.count(NULL_CHARACTER_MESSAGE) >= 2
        assert ReferralDraft.objects.get(pk=draft.pk).answers == before

    def test_what_was_typed_is_shown_again(self, referrer, draft):
        response = verified_client_for(referrer).post(
            _section(draft, "referrer"),
            {"name": "Al\x00ex", "job_title": "Caseworker", "action": "save"},
        )
        assert 'value="Caseworker"' in response.content.decode()

    def test_autosave_says_it_did_not_save(self, referrer, draft):
        response = verified_client_for(referrer).post(
            _section(draft, "referrer"), {"name": "Al\x00ex", "action": "autosave"}
        )
        assert response.status_code == 400
        assert response.json() == {"saved": False}
        assert "referrer" not in ReferralDraft.objects.get(pk=draft.pk).answers

    def test_outside_any_answer_it_is_a_bad_request(self, referrer, draft):
        response = verified_client_for(referrer).post(
            _section(draft, "referrer"), {"no_such_question": "\x00", "action": "save"}
        )
        assert response.status_code == 400


class TestCasePage:
    @pytest.fixture
    def referral(self, referrer, coordinator):
        referral = submitted_referral(referrer)
        referral_transition(
            referral=referral,
            to_status=Status.SCREENING,
            expected_status=Status.SUBMITTED,
            user=coordinator,
        )
        referral.refresh_from_db()
        return referral

    def test_a_decision_is_refused_and_kept(self, coordinator, referral):
        client = verified_client_for(coordinator)
        response = client.post(
            reverse("referrals:change_status", args=[referral.reference]),
            {
                "to_status": Status.DECLINED,
                "expected_status": referral.status,
                "reason": "Not\x00 ASB",
            },
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert NULL_CHARACTER_MESSAGE in page
        assert "Not\x00 ASB" in page  # what was typed is still in the box
        referral.refresh_from_db()
        assert referral.status == Status.SCREENING

    def test_an_answer_to_the_coordinator_is_refused_and_kept(
        self, referrer, coordinator, referral
    ):
        referral_transition(
            referral=referral,
            to_status=Status.INFORMATION_REQUESTED,
            expected_status=Status.SCREENING,
            reason="Is there a dog?",
            user=coordinator,
        )
        client = verified_client_for(referrer)
        response = client.post(
            reverse("referrals:answer", args=[referral.reference]),
            {"message": "A large\x00 one"},
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert NULL_CHARACTER_MESSAGE in page
        assert "A large\x00 one" in page
        referral.refresh_from_db()
        assert referral.status == Status.INFORMATION_REQUESTED

    def test_starting_from_a_reference_with_a_nul_finds_nothing(self, referrer):
        response = verified_client_for(referrer).post(
            reverse("referrals:start"), {"from": "CM-2026-0001\x00"}
        )
        assert response.status_code == 404

    @pytest.mark.parametrize("suffix", ["", "submitted/", "summary.pdf"])
    def test_a_reference_in_the_address_with_a_nul_is_a_bad_request(
        self, coordinator, referral, suffix
    ):
        url = f"/referrals/{referral.reference}%00/{suffix}"
        response = verified_client_for(coordinator).get(url)
        assert response.status_code == 400
