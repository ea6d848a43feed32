"""Case shares carry a reason and an end: who can see a case, why, until when.

An agency invited to a case at a meeting sees it while its share is in force;
the share ends on its end date (the daily job records it), when the case
closes (unless the agency still owns open actions: then when they are done),
when a coordinator ends it, or when a new ISA version drops the agency.
Without consent, and without sharing without consent approved at screening,
an invitation shares nothing until a coordinator names the agency with a
reason. docs/features.md, "Who sees what".
"""

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from meetings.models import ActionStatus, MeetingPack
from meetings.services import (
    MeetingRefused,
    action_add,
    action_update,
    agenda_item_invite,
    meeting_mark_held,
    packs_build,
    papers_issue,
)
from referrals.models import ReferralShare, ShareReason, Status
from referrals.selectors import referrals_visible_to
from referrals.services import (
    ReferralRefused,
    referral_shares_end_expired,
    referral_submit,
    referral_transition,
    sharing_without_consent_approve,
)
from referrals.tasks import end_expired_referral_shares_task
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import acknowledge, agreement_tree, publish_change
from tests.factories.meetings import (
    accepted,
    coordinator,
    meeting,
    on_agenda,
    started,
)
from tests.factories.referrals import (
    complete_answers,
    complete_draft,
    submitted_referral,
)

pytestmark = pytest.mark.django_db


def _no_consent(referrer):
    answers = complete_answers()
    answers["consent"]["consent"] = ["refused"]
    answers["consent"]["justification"] = ["He is at risk of serious harm."]
    return _submit(referrer, answers)


def _submit(referrer, answers):
    referral, _ = referral_submit(
        draft=complete_draft(referrer, answers), user=referrer
    )
    return referral


def _travel(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


@pytest.fixture
def world():
    boss = coordinator()
    housing, police, fire = (
        OrganisationFactory(name=name) for name in ("Housing", "Police", "Fire")
    )
    referrer = UserFactory(organisation=housing, roles=[Role.REFERRER])
    officer = UserFactory(organisation=police, roles=[Role.REFERRER])
    firefighter = UserFactory(organisation=fire, roles=[Role.REFERRER])
    referral = accepted(submitted_referral(referrer), boss)
    return {
        "boss": boss,
        "housing": housing,
        "police": police,
        "fire": fire,
        "referrer": referrer,
        "officer": officer,
        "firefighter": firefighter,
        "referral": referral,
    }


class TestExpiry:
    def test_an_invited_agency_sees_the_case_until_the_end_date(self, world):
        on_agenda(meeting(world["boss"]), world["referral"], [world["police"]])
        share = world["referral"].shares.get()
        assert share.reason == ShareReason.INFORMATION
        assert share.ends_at.date() == (timezone.now() + timedelta(days=90)).date()
        url = world["referral"].get_absolute_url()

        # Signed in on the day (a session does not last the 90 days).
        with _travel(share.ends_at - timedelta(days=1)):
            client = verified_client_for(world["officer"])
            assert client.get(url).status_code == 200
        with _travel(share.ends_at + timedelta(days=1)):
            client = verified_client_for(world["officer"])
            assert client.get(url).status_code == 404
            assert not referrals_visible_to(world["officer"]).exists()

    def test_an_ended_share_no_longer_opens_the_case(self, world):
        on_agenda(meeting(world["boss"]), world["referral"], [world["police"]])
        client = verified_client_for(world["officer"])
        url = world["referral"].get_absolute_url()
        assert client.get(url).status_code == 200
        share = world["referral"].shares.get()
        change = reverse("referrals:access_change", args=[world["referral"].reference,
                                                          share.pk])  # fmt: skip
        boss = verified_client_for(world["boss"])
        response = boss.post(change, {"change": "end", "why": "Work finished"})
        assert response.status_code == 302
        assert client.get(url).status_code == 404
        share.refresh_from_db()
        assert share.ended_by == world["boss"]
        assert share.end_reason == "Work finished"
        assert AuditEvent.objects.filter(
            action="referral.share_ended", object_id=str(share.pk)
        ).exists()

    def test_the_daily_job_ends_shares_past_their_end(self, world):
        on_agenda(meeting(world["boss"]), world["referral"], [world["police"]])
        share = world["referral"].shares.get()
        assert referral_shares_end_expired() == 0
        out = StringIO()
        with _travel(share.ends_at + timedelta(hours=1)):
            call_command("end_expired_referral_shares", stdout=out)
        assert "Ended 1 referral share past their end date." in out.getvalue()
        share.refresh_from_db()
        assert share.ended_at is not None
        assert share.end_reason == "The end date passed"
        assert share.ended_by is None
        event = AuditEvent.objects.get(action="referral.share_ended")
        assert event.object_id == str(share.pk)
        # Twice is safe: nothing more to end.
        with _travel(share.ends_at + timedelta(hours=2)):
            assert end_expired_referral_shares_task.call() == 0


class TestClosure:
    def _held_with_action(self, world):
        boss = world["boss"]
        upcoming = meeting(boss)
        item = on_agenda(upcoming, world["referral"], [world["police"], world["fire"]])
        papers_issue(meeting=upcoming, user=boss)
        meeting_mark_held(meeting=started(upcoming), user=boss)
        return action_add(
            item=item,
            owner=world["police"],
            officer="PC Example",
            description="Visit the victim",
            due=timezone.localdate() + timedelta(days=7),
            user=boss,
        )

    def test_closing_ends_shares_except_the_action_owners_until_done(self, world):
        action = self._held_with_action(world)
        referral_transition(
            referral=world["referral"],
            to_status=Status.CLOSED,
            user=world["boss"],
            expected_status=Status.ACCEPTED,
            reason="Risk reduced",
            feedback="Thank you",
        )
        referral = world["referral"]
        assert (
            not referrals_visible_to(world["firefighter"])
            .filter(pk=referral.pk)
            .exists()
        )
        fire = referral.shares.get(organisation=world["fire"])
        assert fire.end_reason == "The case was closed"
        assert referrals_visible_to(world["officer"]).filter(pk=referral.pk).exists()

        action_update(
            action=action, user=world["officer"], status=ActionStatus.DONE,
            update="Visited",
        )  # fmt: skip
        assert (
            not referrals_visible_to(world["officer"]).filter(pk=referral.pk).exists()
        )
        police = referral.shares.get(organisation=world["police"])
        assert police.end_reason == (
            "The case is closed and the organisation's actions are finished"
        )

    def test_an_action_done_while_the_case_is_open_keeps_the_share(self, world):
        action = self._held_with_action(world)
        action_update(
            action=action, user=world["officer"], status=ActionStatus.DONE,
            update="Visited",
        )  # fmt: skip
        assert (
            referrals_visible_to(world["officer"])
            .filter(pk=world["referral"].pk)
            .exists()
        )

    def test_the_daily_job_ends_shares_left_on_closed_cases(self, world):
        # A share left open on a closed case (made before closing ended
        # shares): the job ends it, keeping those with open actions.
        self._held_with_action(world)
        referral = world["referral"]
        referral.status = Status.CLOSED
        referral.save(update_fields=["status"])
        assert referral_shares_end_expired() == 1
        assert not referrals_visible_to(world["firefighter"]).exists()
        assert referrals_visible_to(world["officer"]).filter(pk=referral.pk).exists()


class TestConsent:
    @pytest.fixture
    def no_consent(self, world):
        return accepted(_no_consent(world["referrer"]), world["boss"])

    def test_an_invitation_does_not_share_a_case_without_consent(
        self, world, no_consent
    ):
        with pytest.raises(MeetingRefused, match="did not consent"):
            on_agenda(meeting(world["boss"]), no_consent, [world["police"]])
        assert not no_consent.shares.exists()
        assert (
            not referrals_visible_to(world["officer"]).filter(pk=no_consent.pk).exists()
        )

    def test_shared_once_the_coordinator_names_the_agency_with_a_reason(
        self, world, no_consent
    ):
        item = on_agenda(meeting(world["boss"]), no_consent, [])
        boss = verified_client_for(world["boss"])
        grant = reverse("referrals:access_grant", args=[no_consent.reference])
        # Nothing chosen: an error next to each field and a summary.
        page = boss.post(grant, {}).content.decode()
        assert "There is a problem" in page
        assert "Select why the organisation needs to see the case" in page
        response = boss.post(
            grant,
            {"organisation": world["police"].pk, "reason": "safeguarding"},
        )
        assert response.status_code == 302
        share = no_consent.shares.get()
        assert (share.reason, share.via_meeting, share.granted_by) == (
            ShareReason.SAFEGUARDING,
            False,
            world["boss"],
        )
        # Now the invitation goes through, and keeps the coordinator's reason.
        agenda_item_invite(item=item, invited=[world["police"]], user=world["boss"])
        assert no_consent.shares.in_force().get().reason == ShareReason.SAFEGUARDING
        assert referrals_visible_to(world["officer"]).filter(pk=no_consent.pk).exists()
        # Fire was not named: inviting it is refused.
        with pytest.raises(MeetingRefused, match="Fire"):
            agenda_item_invite(
                item=item, invited=[world["police"], world["fire"]], user=world["boss"]
            )

    def test_approving_sharing_without_consent_lets_invitations_share(self, world):
        referral = _no_consent(world["referrer"])
        boss = world["boss"]
        referral = referral_transition(
            referral=referral, to_status=Status.SCREENING, user=boss,
            expected_status=Status.SUBMITTED,
        )  # fmt: skip
        client = verified_client_for(boss)
        url = reverse("referrals:sharing_without_consent", args=[referral.reference])
        page = client.post(url, {"why": ""}).content.decode()
        assert "Enter why sharing without consent is justified" in page
        assert client.post(url, {"why": "Serious risk"}).status_code == 302
        referral.refresh_from_db()
        assert referral.sharing_without_consent_reason == "Serious risk"
        assert not referral.sharing_restricted
        referral = referral_transition(
            referral=referral, to_status=Status.ACCEPTED, user=boss,
            expected_status=Status.SCREENING,
        )  # fmt: skip
        on_agenda(meeting(boss), referral, [world["police"]])
        assert referral.shares.in_force().count() == 1
        with pytest.raises(ReferralRefused):
            sharing_without_consent_approve(referral=referral, reason="x", user=boss)


class TestWhoCanSee:
    def test_referrer_and_coordinator_see_who_and_why_invited_agencies_do_not(
        self, world
    ):
        on_agenda(meeting(world["boss"]), world["referral"], [world["police"]])
        url = world["referral"].get_absolute_url()
        for person in (world["referrer"], world["boss"]):
            page = verified_client_for(person).get(url).content.decode()
            assert "Who can see this case and why" in page
            assert "Police" in page
            assert "Holds information relevant to the case" in page
            assert world["boss"].get_full_name() in page
        page = verified_client_for(world["officer"]).get(url).content.decode()
        assert "Who can see this case and why" not in page
        coordinator_page = verified_client_for(world["boss"]).get(url).content.decode()
        assert "Share this case with another organisation" in coordinator_page
        referrer_page = verified_client_for(world["referrer"]).get(url)
        assert "Share this case with another organisation" not in (
            referrer_page.content.decode()
        )

    def test_coordinator_extends_the_end_date_with_a_reason(self, world):
        on_agenda(meeting(world["boss"]), world["referral"], [world["police"]])
        share = world["referral"].shares.get()
        url = reverse(
            "referrals:access_change", args=[world["referral"].reference, share.pk]
        )
        client = verified_client_for(world["boss"])
        later = timezone.localdate() + timedelta(days=200)
        # No reason and no date: both errors, with what was typed kept.
        page = client.post(url, {"change": "extend", "why": ""}).content.decode()
        assert "Enter the new end date" in page and "Enter why access changes" in page
        response = client.post(
            url,
            {"change": "extend", "ends_on_0": later.day, "ends_on_1": later.month,
             "ends_on_2": later.year, "why": "Still working with the family"},
        )  # fmt: skip
        assert response.status_code == 302
        share.refresh_from_db()
        assert timezone.localtime(share.ends_at).date() == later
        assert AuditEvent.objects.filter(action="referral.share_extended").exists()
        # The agency still sees it the day after the old end.
        with _travel(share.created_at + timedelta(days=91)):
            assert referrals_visible_to(world["officer"]).exists()

    def test_invited_agency_cannot_change_access(self, world):
        on_agenda(meeting(world["boss"]), world["referral"], [world["police"]])
        share = world["referral"].shares.get()
        url = reverse(
            "referrals:access_change", args=[world["referral"].reference, share.pk]
        )
        for person in (world["officer"], world["referrer"]):
            response = verified_client_for(person).post(
                url, {"change": "end", "why": "x"}
            )
            assert response.status_code == 404
        assert ReferralShare.objects.in_force().count() == 1


class TestAgreementDrop:
    @pytest.mark.slow
    def test_a_version_dropping_an_agency_revokes_its_shares_and_packs(self, world):
        _protocol, isa, organisations, editor = agreement_tree(
            organisations=[world["housing"], world["police"], world["fire"]],
            coordinator=world["boss"],
        )
        for organisation in organisations:
            acknowledge(isa.latest_version, organisation)
        invited = [world["police"], world["fire"]]
        on_agenda(meeting(world["boss"]), world["referral"], invited)
        police_pack = MeetingPack.objects.create(
            meeting=world["referral"].agenda_items.get().meeting,
            organisation=world["police"],
            file=ContentFile(b"%PDF-1.4 pack", name="pack.pdf"),
            source_hash="x",
            pages=1,
            build_seconds=0,
            stamp={},
        )

        def drop_police(draft):
            draft.signatory_organisations = [world["housing"], world["fire"]]

        publish_change(isa, editor, number="2.0", edit=drop_police)

        police = world["referral"].shares.get(organisation=world["police"])
        assert police.ended_at is not None
        assert "No longer a party to the information sharing agreement" in (
            police.end_reason
        )
        assert world["referral"].shares.get(organisation=world["fire"]).in_force
        assert not MeetingPack.objects.filter(pk=police_pack.pk).exists()
        # Police are still on the invitation list, but the next build of the
        # papers makes no pack for an organisation the agreement no longer
        # covers.
        packs_build(world["referral"].agenda_items.get().meeting)
        assert not MeetingPack.objects.filter(organisation=world["police"]).exists()
        assert MeetingPack.objects.filter(organisation=world["fire"]).exists()
        assert AuditEvent.objects.filter(action="meeting.pack_deleted").exists()
        assert AuditEvent.objects.filter(
            action="agreement.organisations_dropped"
        ).exists()
