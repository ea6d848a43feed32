"""Restriction of processing (UK GDPR Article 18): who may restrict and lift,
and that a restricted case cannot be put on an agenda or shared, in the
services and through the pages (posting straight to the endpoints with a
forged choice), while agencies that see it are told it is restricted."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from documents.models import Share
from documents.services import ShareRefused
from meetings.models import AgendaItem
from meetings.selectors import referrals_for_agenda
from meetings.services import MeetingRefused, agenda_item_invite
from referrals.audit_actions import ReferralAction
from referrals.models import CaseRestriction, ReferralShare
from referrals.services import (
    CaseRestricted,
    ReferralRefused,
    referral_restrict,
    referral_restriction_lift,
    referral_share_extend,
    referral_share_grant,
    restriction_in_force,
    restrictions_end_expired,
)
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import shared, upload
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import share, submitted_referral
from tests.shared_setup import read_again, rolled_back_after_module

pytestmark = pytest.mark.django_db

REASON = "Mrs Quartermaine says her address is wrong; checking with housing."


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """Made once for the module (tests/shared_setup.py); each test's own
    changes are rolled back after it."""
    with rolled_back_after_module(django_db_blocker):
        yield _world_made()


@pytest.fixture
def world(_world, db):
    return read_again(_world)


def _world_made():
    boss = coordinator()
    referring, invited, outsider = (
        OrganisationFactory(name=n) for n in ("Housing", "Police", "Fire")
    )
    author = UserFactory(organisation=referring, roles=[Role.REFERRER])
    referral = accepted(submitted_referral(author), boss)
    shared_with = share(referral, invited)
    return {
        "boss": boss,
        "author": author,
        "referral": referral,
        "referring": referring,
        "invited": invited,
        "outsider": outsider,
        "share": shared_with,
        "partner": UserFactory(organisation=invited, roles=[Role.REFERRER]),
        "stranger": UserFactory(organisation=outsider, roles=[Role.REFERRER]),
    }


def _restrict(world, **options):
    return referral_restrict(
        referral=world["referral"], user=world["boss"], reason=REASON, **options
    )


class TestRestrictAndLift:
    def test_only_coordinators_with_a_reason_and_an_end_not_past(self, world):
        referral = world["referral"]
        with pytest.raises(ReferralRefused, match="Only coordinators"):
            referral_restrict(referral=referral, user=world["author"], reason=REASON)
        with pytest.raises(ReferralRefused, match="Enter why"):
            referral_restrict(referral=referral, user=world["boss"], reason="  ")
        with pytest.raises(ReferralRefused, match="today or in the future"):
            _restrict(world, until=timezone.localdate() - timedelta(days=1))
        restriction = _restrict(world, until=timezone.localdate())
        assert restriction_in_force(referral) == restriction
        with pytest.raises(ReferralRefused, match="already restricted"):
            _restrict(world)

    def test_restricting_and_lifting_are_audited_without_the_reason(self, world):
        restriction = _restrict(world)
        with pytest.raises(ReferralRefused, match="Enter why"):
            referral_restriction_lift(
                referral=world["referral"], user=world["boss"], reason=""
            )
        with pytest.raises(ReferralRefused, match="Only coordinators"):
            referral_restriction_lift(
                referral=world["referral"], user=world["author"], reason="Checked"
            )
        referral_restriction_lift(
            referral=world["referral"], user=world["boss"], reason="Address checked"
        )
        assert restriction_in_force(world["referral"]) is None
        restriction.refresh_from_db()
        assert restriction.lifted_by == world["boss"]
        assert restriction.lift_reason == "Address checked"
        events = AuditEvent.objects.filter(
            action__in=[ReferralAction.RESTRICTED, ReferralAction.RESTRICTION_LIFTED]
        ).order_by("id")
        assert [e.action for e in events] == [
            ReferralAction.RESTRICTED,
            ReferralAction.RESTRICTION_LIFTED,
        ]
        for event in events:
            assert event.detail["restriction"] == restriction.pk
            assert event.detail["withheld"] == ["why"]
            assert "Quartermaine" not in str(event.detail)
        # History kept: a second restriction stands beside the lifted one.
        _restrict(world)
        assert CaseRestriction.objects.filter(referral=world["referral"]).count() == 2

    def test_past_its_end_date_it_stops_and_the_daily_job_records_it(self, world):
        restriction = _restrict(world, until=timezone.localdate())
        CaseRestriction.objects.filter(pk=restriction.pk).update(
            until=timezone.localdate() - timedelta(days=1)
        )
        assert restriction_in_force(world["referral"]) is None
        assert restrictions_end_expired() == 1
        restriction.refresh_from_db()
        assert restriction.lifted_at is not None
        assert restriction.lifted_by is None
        assert restriction.lift_reason == "The end date passed"
        assert restrictions_end_expired() == 0


class TestEnforcedInServices:
    def test_not_put_on_an_agenda_nor_offered_for_one(self, world):
        _restrict(world)
        upcoming = meeting(world["boss"])
        assert world["referral"] not in referrals_for_agenda(world["boss"], upcoming)
        with pytest.raises(MeetingRefused, match="restricted"):
            on_agenda(upcoming, world["referral"], [world["invited"]], world["boss"])
        assert not AgendaItem.objects.exists()
        referral_restriction_lift(
            referral=world["referral"], user=world["boss"], reason="Checked"
        )
        assert world["referral"] in referrals_for_agenda(world["boss"], upcoming)
        on_agenda(upcoming, world["referral"], [world["invited"]], world["boss"])

    def test_already_on_an_agenda_no_other_agency_is_invited(self, world):
        upcoming = meeting(world["boss"])
        item = on_agenda(upcoming, world["referral"], [], world["boss"])
        _restrict(world)
        with pytest.raises(MeetingRefused, match="restricted"):
            agenda_item_invite(item=item, invited=[world["outsider"]],
                               user=world["boss"])  # fmt: skip
        assert not ReferralShare.objects.filter(organisation=world["outsider"]).exists()

    def test_not_shared_with_another_organisation_nor_for_longer(self, world):
        _restrict(world)
        with pytest.raises(CaseRestricted):
            referral_share_grant(
                referral=world["referral"],
                organisation=world["outsider"],
                reason="information",
                user=world["boss"],
            )
        share_ = world["share"]
        with pytest.raises(CaseRestricted):
            referral_share_extend(
                share=share_, ends_at=share_.ends_at + timedelta(days=5),
                reason="More time", user=world["boss"],
            )  # fmt: skip
        # Shortening access is not sharing: it is allowed.
        referral_share_extend(
            share=share_, ends_at=timezone.now() + timedelta(days=1),
            reason="Less time", user=world["boss"],
        )  # fmt: skip

    def test_no_files_shared_about_it(self, world):
        _restrict(world)
        with pytest.raises(ShareRefused, match="restricted") as refused:
            shared(world["author"], [], referral=world["referral"], files=[upload()])
        assert refused.value.field == "referral"
        assert not Share.objects.exists()


class TestPages:
    def test_coordinator_restricts_a_refusal_keeps_what_was_typed(self, world):
        client = verified_client_for(world["boss"])
        url = reverse("referrals:restrict", args=[world["referral"].reference])
        assert client.get(url).status_code == 200
        refused = client.post(url, {"reason": "", "until_0": "1", "until_1": "1",
                                    "until_2": "2020"})  # fmt: skip
        assert refused.status_code == 400
        page = refused.content.decode()
        assert "There is a problem" in page
        assert "Enter why processing is restricted" in page
        assert 'value="2020"' in page
        response = client.post(url, {"reason": REASON})
        assert response.status_code == 302
        assert restriction_in_force(world["referral"]).reason == REASON

    def test_every_agency_with_access_sees_the_banner_not_the_reason(self, world):
        _restrict(world, until=timezone.localdate() + timedelta(days=30))
        for key in ("boss", "author", "partner"):
            page = (
                verified_client_for(world[key])
                .get(world["referral"].get_absolute_url())
                .content.decode()
            )
            assert "Processing of this case is restricted" in page, key
            assert "govuk-notification-banner" in page
            assert ("Quartermaine" in page) == (key == "boss"), key
        stranger = verified_client_for(world["stranger"])
        assert stranger.get(world["referral"].get_absolute_url()).status_code == 404

    def test_forged_agenda_post_is_refused_with_the_reason_by_the_field(self, world):
        _restrict(world)
        upcoming = meeting(world["boss"])
        response = verified_client_for(world["boss"]).post(
            reverse("meetings:agenda_add", args=[upcoming.pk]),
            {
                "referral": world["referral"].reference,
                "invited": [world["invited"].pk],
                "slot_minutes": "15",
            },
        )
        assert response.status_code == 400
        assert "is restricted" in response.content.decode()
        assert not AgendaItem.objects.exists()

    def test_forged_share_post_is_refused(self, world):
        _restrict(world)
        client = verified_client_for(world["boss"])
        response = client.post(
            reverse("referrals:access_grant", args=[world["referral"].reference]),
            {"organisation": world["outsider"].pk, "reason": "information"},
        )
        assert response.status_code == 400
        assert "is restricted" in response.content.decode()
        assert not ReferralShare.objects.filter(organisation=world["outsider"]).exists()

    def test_forged_file_share_post_is_refused(self, world):
        _restrict(world)
        day = timezone.localdate() + timedelta(days=10)
        response = verified_client_for(world["author"]).post(
            reverse("documents:new"),
            {
                "submission_key": str(uuid.uuid4()),
                "target": "referral",
                "referral": world["referral"].reference,
                "files": [upload("visit notes.txt", b"Visited.\n")],
                "expires_0": str(day.day),
                "expires_1": str(day.month),
                "expires_2": str(day.year),
            },
        )
        assert response.status_code == 400
        assert "is restricted" in response.content.decode()
        assert not Share.objects.exists()

    def test_lifting_through_the_page_restores_sharing(self, world):
        _restrict(world)
        client = verified_client_for(world["boss"])
        url = reverse("referrals:restriction_lift", args=[world["referral"].reference])
        page = client.get(url).content.decode()
        assert REASON.replace("'", "&#x27;") in page
        refused = client.post(url, {"reason": ""})
        assert refused.status_code == 400
        assert "Enter why the restriction is lifted" in refused.content.decode()
        assert client.post(url, {"reason": "Address checked"}).status_code == 302
        page = client.get(world["referral"].get_absolute_url()).content.decode()
        assert "Processing of this case is restricted" not in page
        referral_share_grant(
            referral=world["referral"], organisation=world["outsider"],
            reason="information", user=world["boss"],
        )  # fmt: skip

    @pytest.mark.parametrize("key", ["author", "partner", "stranger"])
    def test_only_coordinators_reach_the_pages(self, world, key):
        _restrict(world)
        client = verified_client_for(world[key])
        reference = world["referral"].reference
        for name in ("referrals:restrict", "referrals:restriction_lift"):
            url = reverse(name, args=[reference])
            assert client.get(url).status_code == 404
            assert client.post(url, {"reason": "x"}).status_code == 404
        assert restriction_in_force(world["referral"]) is not None
