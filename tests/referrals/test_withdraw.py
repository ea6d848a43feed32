"""The referring agency withdraws a referral before screening starts: with a
reason, closing the case (retention runs from then), audited, and the
coordinators told without personal data. Refused after screening starts."""

import pytest
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from notices.models import Notice, NoticeKind
from referrals.audit_actions import ReferralAction
from referrals.models import EventKind, Referral, Status
from referrals.services import (
    WITHDRAW_TOO_LATE,
    ReferralRefused,
    referral_transition,
    referral_withdraw,
)
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.referrals import share, submitted_referral

pytestmark = pytest.mark.django_db

REASON = "The housing officer resolved it with Jo Bloggs directly."


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER])


@pytest.fixture
def boss():
    return UserFactory(roles=[Role.COORDINATOR])


@pytest.fixture
def referral(referrer):
    return submitted_referral(referrer)


class TestTheService:
    def test_withdrawing_closes_the_case_and_keeps_the_reason(
        self, referral, referrer, boss
    ):
        police = OrganisationFactory(name="Police")
        share(referral, police)
        withdrawn = referral_withdraw(referral=referral, user=referrer, reason=REASON)
        assert withdrawn.status == Status.WITHDRAWN
        assert withdrawn.closed_at is not None
        assert withdrawn.closed_at <= timezone.now()
        assert withdrawn.outcome_reason == REASON
        assert not withdrawn.is_open
        event = withdrawn.events.last()
        assert (event.kind, event.to_status) == (EventKind.TRANSITION, "withdrawn")
        assert event.message == REASON
        assert not withdrawn.shares.filter(ended_at__isnull=True).exists()

    def test_it_is_audited_without_the_reason(self, referral, referrer, boss):
        referral_withdraw(referral=referral, user=referrer, reason=REASON)
        row = AuditEvent.objects.get(action=ReferralAction.WITHDRAWN)
        assert row.detail == {"from": "submitted", "to": "withdrawn"}
        assert "Bloggs" not in str(row.detail)

    def test_the_coordinators_get_a_notice_with_the_reference_only(
        self, referral, referrer, boss
    ):
        referral_withdraw(referral=referral, user=referrer, reason=REASON)
        notice = Notice.objects.get(recipient=boss)
        assert notice.kind == NoticeKind.REFERRAL_WITHDRAWN
        assert referral.reference in notice.title
        assert "Bloggs" not in notice.title
        assert notice.link == referral.get_absolute_url()
        assert not Notice.objects.filter(recipient=referrer).exists()

    def test_a_reason_is_required(self, referral, referrer):
        with pytest.raises(ReferralRefused, match="Enter why you are withdrawing"):
            referral_withdraw(referral=referral, user=referrer, reason="  ")
        referral.refresh_from_db()
        assert referral.status == Status.SUBMITTED

    def test_refused_once_screening_has_started(self, referral, referrer, boss):
        referral_transition(
            referral=referral,
            to_status=Status.SCREENING,
            user=boss,
            expected_status=Status.SUBMITTED,
        )
        with pytest.raises(ReferralRefused) as refused:
            referral_withdraw(referral=referral, user=referrer, reason=REASON)
        assert str(refused.value) == WITHDRAW_TOO_LATE
        assert Referral.objects.get(pk=referral.pk).status == Status.SCREENING

    def test_only_the_referring_agency_withdraws(self, referral, boss):
        other = UserFactory(roles=[Role.REFERRER])
        for person in (boss, other):
            with pytest.raises(ReferralRefused, match="Only staff of the referring"):
                referral_withdraw(referral=referral, user=person, reason=REASON)

    def test_a_coordinator_cannot_withdraw_through_screening(self, referral, boss):
        with pytest.raises(ReferralRefused):
            referral_transition(
                referral=referral,
                to_status=Status.WITHDRAWN,
                user=boss,
                expected_status=Status.SUBMITTED,
                reason=REASON,
            )


class TestTheCasePage:
    def test_the_referrer_sees_the_form_and_withdraws(self, referral, referrer):
        client = verified_client_for(referrer)
        page = client.get(referral.get_absolute_url())
        assert b"Withdraw the referral" in page.content
        response = client.post(f"/referrals/{referral.reference}/withdraw/",
                               {"reason": REASON})  # fmt: skip
        assert response.status_code == 302
        referral.refresh_from_db()
        assert referral.status == Status.WITHDRAWN
        page = client.get(referral.get_absolute_url())
        assert b"Withdraw the referral" not in page.content
        assert b"Withdrawn by the referring agency" in page.content

    def test_without_a_reason_the_page_comes_back_with_400(self, referral, referrer):
        client = verified_client_for(referrer)
        response = client.post(f"/referrals/{referral.reference}/withdraw/",
                               {"reason": ""})  # fmt: skip
        assert response.status_code == 400
        body = response.content.decode()
        assert "govuk-error-summary" in body
        assert 'href="#withdraw-reason"' in body
        assert 'id="withdraw-reason-error"' in body

    def test_after_screening_started_the_refusal_says_so(
        self, referral, referrer, boss
    ):
        referral_transition(referral=referral, to_status=Status.SCREENING,
                            user=boss, expected_status=Status.SUBMITTED)  # fmt: skip
        client = verified_client_for(referrer)
        assert (
            b"Withdraw the referral"
            not in client.get(referral.get_absolute_url()).content
        )
        response = client.post(f"/referrals/{referral.reference}/withdraw/",
                               {"reason": REASON})  # fmt: skip
        assert response.status_code == 400
        assert "can no longer be withdrawn" in response.content.decode()
        assert REASON in response.content.decode()  # what was typed is kept

    def test_the_coordinator_is_not_offered_withdrawal(self, referral, boss):
        page = verified_client_for(boss).get(referral.get_absolute_url())
        assert b"Withdraw the referral" not in page.content
        assert b'value="withdrawn"' not in page.content
