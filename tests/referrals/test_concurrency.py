"""Submissions at the same moment: references stay unique and gapless, and one
draft never makes two referrals.

These run real transactions on separate connections. On PostgreSQL the row
locks (SELECT ... FOR UPDATE) do the work; on SQLite write transactions are
IMMEDIATE (portal.settings.base), so writers queue instead of interleaving.
"""

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from referrals.models import ReferenceCounter, Referral, ReferralDraft
from referrals.services import draft_start, referral_submit
from tests.concurrency import at_once
from tests.factories import UserFactory
from tests.factories.referrals import complete_answers

pytestmark = pytest.mark.django_db(transaction=True)


def ready_draft(user) -> ReferralDraft:
    draft = draft_start(user=user)
    ReferralDraft.objects.filter(pk=draft.pk).update(answers=complete_answers())
    return draft


def test_references_are_unique_and_gapless_under_concurrent_submission():
    people = [UserFactory(roles=[Role.REFERRER]) for _ in range(3)]
    drafts = [ready_draft(user) for user in people for _ in range(2)]

    results, errors = at_once(
        [(referral_submit, {"draft": d, "user": d.owner}) for d in drafts]
    )

    assert errors == []
    assert all(created for _, created in results)
    referrals = list(Referral.objects.order_by("number"))
    (year,) = {referral.year for referral in referrals}
    assert [r.reference for r in referrals] == [
        f"CM-{year}-{n:04d}" for n in range(1, len(drafts) + 1)
    ]
    assert ReferenceCounter.objects.get(year=year).last_number == len(drafts)
    # Each draft made its own referral.
    linked = ReferralDraft.objects.values_list("referral_id", flat=True)
    assert sorted(linked) == sorted(r.pk for r in referrals)


def test_one_draft_submitted_twice_at_once_makes_one_referral():
    user = UserFactory(roles=[Role.REFERRER])
    draft = ready_draft(user)

    results, errors = at_once(
        [(referral_submit, {"draft": draft, "user": user}) for _ in range(3)]
    )

    assert errors == []
    assert sorted(created for _, created in results) == [False, False, True]
    assert len({referral.pk for referral, _ in results}) == 1
    assert Referral.objects.count() == 1
    assert AuditEvent.objects.filter(action="referral.submitted").count() == 1
    (referral,) = Referral.objects.all()
    assert referral.number == 1
    draft.refresh_from_db()
    assert draft.referral == referral
