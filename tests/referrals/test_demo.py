"""The demo referrals that seed_demo loads through the referral services."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from referrals.answers import WITHHELD_NOT_DISCLOSED
from referrals.demo import CASES, SHARE_REASON
from referrals.models import (
    PersonRole,
    Referral,
    ReferralDraft,
    ReferralEvent,
    ReferralShare,
    SectionState,
    Status,
)
from referrals.retention_demo import OLD_CASES
from referrals.selectors import (
    drafts_of,
    earlier_referrals,
    redaction_for,
    referrals_visible_to,
)
from tests.conftest import verified_client_for

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts():
    return (
        Referral.objects.count(),
        ReferralDraft.objects.count(),
        ReferralEvent.objects.count(),
        ReferralShare.objects.count(),
    )


@pytest.fixture
def seeded(demo_seeded):
    return demo_seeded


class TestDemoReferrals:
    def test_seeding_twice_creates_nothing_new(self, seeded):
        first = _counts()
        assert first[0] == len(CASES) + len(OLD_CASES)
        assert f"Created {len(CASES)} demo referrals" in seeded

        again = _seed()

        assert _counts() == first
        assert "Created 0 demo referrals" in again

    def test_statuses_cover_the_whole_workflow(self, seeded):
        # Every status is reached in some case's history. (The demo meetings
        # accept the case that was in screening, for their next agenda.)
        reached = set(ReferralEvent.objects.values_list("to_status", flat=True))
        assert reached == set(Status.values)
        statuses = set(Referral.objects.values_list("status", flat=True))
        assert statuses >= set(Status.values) - {Status.SCREENING}

    def test_outcomes_carry_their_reasons(self, seeded):
        declined = Referral.objects.get(status=Status.DECLINED)
        redirected = Referral.objects.get(status=Status.REDIRECTED)
        assert declined.outcome_reason
        assert redirected.redirected_to == "Domestic abuse MARAC"
        assert redirected.outcome_reason
        for closed in Referral.objects.filter(status=Status.CLOSED):
            assert closed.outcome_reason and closed.feedback
            assert closed.closed_at == closed.status_changed_at

    def test_one_referrer_answered_a_request_for_information(self, seeded):
        answered = Referral.objects.get(events__kind="information_provided")
        assert answered.status == Status.ACCEPTED
        answer = answered.events.get(kind="information_provided")
        assert answer.actor.organisation_id == answered.organisation_id
        assert Referral.objects.filter(status=Status.INFORMATION_REQUESTED).exists()

    def test_cases_cover_the_flags_and_kinds(self, seeded):
        referrals = list(Referral.objects.prefetch_related("people"))
        assert len({r.organisation_id for r in referrals}) >= 6
        cuckooing = [r for r in referrals if "cuckooing" in r.asb_types]
        assert any(r.urgent and r.risk_level == "high" for r in cuckooing)
        assert any("hate" in r.asb_types and r.do_not_disclose for r in referrals)
        assert any(
            "noise" in r.asb_types
            and r.anonymous_source
            and any(p.role == PersonRole.WITNESS for p in r.people.all())
            for r in referrals
        )
        assert any(r.answers["household"]["children"] for r in referrals)
        assert any(
            len(r.answers["risk"]["incidents"]) >= 2
            and any(p.role == PersonRole.CAUSING_HARM for p in r.people.all())
            for r in referrals
        )

    def test_one_referral_was_withdrawn_by_its_referring_agency(self, seeded):
        withdrawn = Referral.objects.get(status=Status.WITHDRAWN)
        assert withdrawn.outcome_reason.startswith("Sent in error")
        assert withdrawn.closed_at == withdrawn.status_changed_at
        event = withdrawn.events.get(to_status=Status.WITHDRAWN)
        assert event.actor.organisation_id == withdrawn.organisation_id

    def test_an_accepted_case_has_notes_one_for_coordinators_only(self, seeded):
        noted = Referral.objects.get(notes__isnull=False, notes__coordinators_only=True)
        assert noted.status == Status.ACCEPTED
        notes = list(noted.notes.all())
        assert [n.coordinators_only for n in notes] == [False, True]
        assert notes[0].author.organisation_id == noted.organisation_id
        assert notes[1].author.username == "coordinator"

    def test_repeat_referral_finds_the_earlier_one(self, seeded):
        repeat = Referral.objects.get(started_from__isnull=False)
        assert repeat.answers["referral-type"]["fields"]["kind"] == "repeat"
        assert repeat.organisation_id == repeat.started_from.organisation_id

        earlier = earlier_referrals(repeat)

        assert [e.reference for e in earlier] == [repeat.started_from.reference]
        assert earlier[0].person_name == "Martin Proofield"
        # The board counts it, and no other demo referral, as a repeat.
        assert list(Referral.objects.filter(is_repeat=True)) == [repeat]

    def test_history_is_spread_over_past_days_in_order(self, seeded):
        for referral in Referral.objects.all():
            times = [event.at for event in referral.events.all()]
            assert times == sorted(times)
            assert referral.submitted_at == times[0]
            assert referral.status_changed_at == times[-1]
            assert referral.submitted_at.year == referral.year
        # References rise with the dates, within each year.
        newest_first = list(Referral.objects.values_list("year", "number"))
        assert newest_first == sorted(newest_first, reverse=True)

    def test_police_referrer_has_an_unfinished_draft(self, seeded):
        owner = User.objects.get(username="police.referrer")
        draft = drafts_of(owner).get()
        assert draft.state("eligibility") == SectionState.COMPLETED
        assert draft.state("referrer") == SectionState.COMPLETED
        assert draft.state("people") == SectionState.IN_PROGRESS
        assert draft.state("consent") == SectionState.NOT_STARTED

    def test_shared_referral_is_seen_redacted_by_the_other_agency(self, seeded):
        share = ReferralShare.objects.select_related("referral").get(
            reason=SHARE_REASON, via_meeting=False
        )
        assert share.reason == SHARE_REASON
        assert share.referral.status == Status.ACCEPTED
        outsider = User.objects.get(username=f"{share.organisation.slug}.referrer")

        visible = referrals_visible_to(outsider)

        own = Referral.objects.filter(organisation=outsider.organisation)
        assert set(visible) == {share.referral, *own}
        assert redaction_for(outsider, share.referral) == {
            "do_not_disclose": True,
            "anonymous_source": False,
        }


class TestDemoPages:
    """The demo data renders on the pages people will click through."""

    def test_coordinator_sees_every_demo_referral(self, seeded):
        client = verified_client_for(User.objects.get(username="coordinator"))
        listing = client.get(reverse("referrals:index")).content.decode()
        for referral in Referral.objects.all():
            assert referral.reference in listing
            assert client.get(referral.get_absolute_url()).status_code == 200

    def test_other_agency_sees_the_shared_case_redacted(self, seeded):
        share = ReferralShare.objects.select_related("referral").get(
            reason=SHARE_REASON, via_meeting=False
        )
        outsider = User.objects.get(username=f"{share.organisation.slug}.referrer")
        client = verified_client_for(outsider)
        response = client.get(share.referral.get_absolute_url())
        assert response.status_code == 200
        assert WITHHELD_NOT_DISCLOSED in response.content.decode()

    def test_police_referrer_can_continue_the_draft(self, seeded):
        owner = User.objects.get(username="police.referrer")
        draft = drafts_of(owner).get()
        client = verified_client_for(owner)
        url = reverse("referrals:task_list", args=[draft.public_id])
        assert url in client.get(reverse("referrals:index")).content.decode()
        assert client.get(url).status_code == 200
