"""Correcting a submitted referral (UK GDPR Articles 16 and 19): a numbered
amendment with who, when, why, before and after; its history on the case
under the redaction policy; packs that showed the old value rebuilt; and
every organisation that received the case told, without personal data."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from meetings.models import MeetingPack, MeetingStatus
from referrals.audit_actions import ReferralAction
from referrals.models import ReferralAmendment, ReferralPerson, name_key
from referrals.services import (
    AmendmentRefused,
    ReferralRefused,
    referral_amend,
    referral_share_end,
)
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import person, share, submitted_referral

pytestmark = pytest.mark.django_db

OLD_NAME = "Alex Example"
NEW_NAME = "Alexandra Exemplar"
WITNESS = "Wendy Witness"
WHY = "Alexandra Exemplar phoned to say her name was misspelt."


@pytest.fixture
def world():
    boss = coordinator()
    housing, police, fire, outsider = (
        OrganisationFactory(name=n) for n in ("Housing", "Police", "Fire", "Parks")
    )
    staff = {
        org.name: UserFactory(
            organisation=org, roles=[Role.REFERRER], email=f"staff@{org.slug}.test"
        )
        for org in (housing, police, fire, outsider)
    }
    referral = accepted(
        submitted_referral(
            staff["Housing"],
            people=[
                person(0, name=OLD_NAME),
                person(1, role="witness", name=WITNESS),
            ],
            anonymous_source=True,
        ),
        boss,
    )
    share(referral, fire)
    return {"boss": boss, "referral": referral, "staff": staff, "police": police,
            "fire": fire, "outsider": outsider}  # fmt: skip


def _amend(world, answer="people.people.0.full_name", value=NEW_NAME, **kw):
    kw.setdefault("user", world["boss"])
    kw.setdefault("reason", WHY)
    return referral_amend(referral=world["referral"], answer=answer, value=value, **kw)


class TestAmending:
    def test_only_coordinators_correct_a_referral(self, world):
        with pytest.raises(ReferralRefused, match="Only coordinators"):
            _amend(world, user=world["staff"]["Housing"])
        assert not ReferralAmendment.objects.exists()

    def test_a_correction_is_numbered_and_keeps_who_when_why_before_after(self, world):
        first = _amend(world)
        referral = world["referral"]
        referral.refresh_from_db()
        assert referral.answers["people"]["people"][0]["full_name"] == NEW_NAME
        assert (first.version, first.before, first.after) == (1, OLD_NAME, NEW_NAME)
        assert first.amended_by == world["boss"]
        assert first.reason == WHY
        # The searchable row follows, so the coordinators' search finds her.
        row = ReferralPerson.objects.get(referral=referral, position=1)
        assert (row.full_name, row.name_key) == (NEW_NAME, name_key(NEW_NAME))
        second = _amend(world, answer="risk.risk_level", value="medium")
        referral.refresh_from_db()
        assert second.version == 2
        assert referral.risk_level == "medium"  # the column copies the answer
        event = AuditEvent.objects.get(action=ReferralAction.AMENDED,
                                       detail__version=1)  # fmt: skip
        assert event.detail["answer"] == "people.people.0.full_name"
        assert event.detail["withheld"] == ["why"]
        assert NEW_NAME not in str(event.detail) and OLD_NAME not in str(event.detail)

    def test_refused_without_a_reason_unchanged_or_unfit_for_the_section(self, world):
        with pytest.raises(AmendmentRefused, match="Enter why"):
            _amend(world, reason=" ")
        with pytest.raises(AmendmentRefused, match="same as the current one"):
            _amend(world, value=OLD_NAME)
        # Without a date of birth the person's section needs an age.
        with pytest.raises(AmendmentRefused, match="their age"):
            _amend(world, answer="people.people.0.date_of_birth", value=None)
        with pytest.raises(ReferralRefused, match="Choose an answer"):
            _amend(world, answer="people.people.7.full_name")
        assert not ReferralAmendment.objects.exists()


class TestNotifications:
    def test_every_organisation_that_received_the_case_is_told_no_one_else(
        self, world, django_capture_on_commit_callbacks
    ):
        boss, referral = world["boss"], world["referral"]
        issued = meeting(boss)
        on_agenda(issued, referral, [world["police"]], boss)
        # Papers out (the build is not what this test is about).
        type(issued).objects.filter(pk=issued.pk).update(
            status=MeetingStatus.PAPERS_ISSUED
        )
        # Fire's share has ended: it still received the old value.
        referral_share_end(
            share=referral.shares.get(organisation=world["fire"]),
            reason="No longer needed",
            user=boss,
        )
        mail.outbox.clear()
        with (
            mock.patch("meetings.services.packs._enqueue_build"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            _amend(world)
        told = sorted(message.to[0] for message in mail.outbox)
        staff = world["staff"]
        assert told == sorted(
            staff[name].email for name in ("Housing", "Police", "Fire")
        )
        for message in mail.outbox:
            text = message.subject + message.body
            assert referral.reference in text
            assert referral.get_absolute_url() in message.body
            for personal in (OLD_NAME, NEW_NAME, WITNESS, "Example", "misspelt"):
                assert personal not in text


class TestPacksRebuilt:
    def test_a_correction_asks_for_every_stored_pack_showing_the_case(
        self, world, django_capture_on_commit_callbacks
    ):
        boss, referral = world["boss"], world["referral"]
        issued, held, elsewhere = meeting(boss), meeting(boss), meeting(boss)
        for each in (issued, held):
            on_agenda(each, referral, [world["police"]], boss)
        on_agenda(elsewhere, accepted(submitted_referral(), boss), [], boss)
        type(issued).objects.filter(pk=issued.pk).update(
            status=MeetingStatus.PAPERS_ISSUED
        )
        type(held).objects.filter(pk__in=[held.pk, elsewhere.pk]).update(
            status=MeetingStatus.HELD
        )
        for each in (held, elsewhere):
            MeetingPack.objects.create(
                meeting=each, organisation=world["police"], file="meeting-packs/x.pdf",
                source_hash="old", pages=1, build_seconds=0,
            )  # fmt: skip
        with (
            mock.patch("meetings.services.packs._enqueue_build") as build,
            django_capture_on_commit_callbacks(execute=True),
        ):
            _amend(world)
        rebuilt = {call.args[0] for call in build.call_args_list}
        assert rebuilt == {issued.pk, held.pk}


class TestHistoryOnTheCase:
    def test_shown_to_each_as_the_redaction_policy_allows(self, world):
        _amend(world)
        _amend(world, answer="people.people.1.full_name", value="Wanda Witness")
        partner = UserFactory(organisation=world["fire"], roles=[Role.REFERRER])
        coordinator_page = (
            verified_client_for(world["boss"])
            .get(world["referral"].get_absolute_url())
            .content.decode()
        )
        assert f"People: Person 1: Full name: was {OLD_NAME}, now {NEW_NAME}" in (
            coordinator_page
        )
        assert "was Wendy Witness, now Wanda Witness" in coordinator_page
        assert "Why: Alexandra Exemplar phoned" in coordinator_page
        partner_page = (
            verified_client_for(partner)
            .get(world["referral"].get_absolute_url())
            .content.decode()
        )
        # The victim's name is not withheld from partners; the witness's is.
        assert f"was {OLD_NAME}, now {NEW_NAME}" in partner_page
        assert "Wanda" not in partner_page and WITNESS not in partner_page
        assert "People: Person 2: Full name: Withheld" in partner_page
        assert "phoned" not in partner_page  # the reason is for coordinators

    def test_a_coordinator_corrects_through_the_pages(self, world):
        client = verified_client_for(world["boss"])
        reference = world["referral"].reference
        choose = reverse("referrals:amend_choose", args=[reference])
        assert client.get(choose).status_code == 200
        refused = client.get(choose, {"answer": "nonsense"})
        assert refused.status_code == 400
        assert "Select an answer from the list" in refused.content.decode()
        response = client.get(choose, {"answer": "people.people.0.phone"})
        url = reverse("referrals:amend", args=[reference, "people.people.0.phone"])
        assert response["Location"] == url
        page = client.get(url).content.decode()
        assert "07700 900 982" in page
        refused = client.post(url, {"value": "07700 900 111", "why": ""})
        assert refused.status_code == 400
        page = refused.content.decode()
        assert "There is a problem" in page
        assert "Enter why the answer is corrected" in page
        assert 'value="07700 900 111"' in page
        same = client.post(url, {"value": "07700 900 982", "why": "Checked"})
        assert same.status_code == 400
        assert "same as the current one" in same.content.decode()
        done = client.post(url, {"value": "07700 900 111", "why": "She moved"})
        assert done.status_code == 302
        page = client.get(world["referral"].get_absolute_url()).content.decode()
        assert "was 07700 900 982, now 07700 900 111" in page
        assert (
            client.get(
                reverse("referrals:amend", args=[reference, "people.people.9.phone"])
            ).status_code
            == 404
        )

    def test_a_date_is_corrected_in_its_three_boxes(self, world):
        client = verified_client_for(world["boss"])
        answer = "people.people.0.date_of_birth"
        url = reverse("referrals:amend", args=[world["referral"].reference, answer])
        born = timezone.localdate() - timedelta(days=365 * 40)
        response = client.post(url, {
            "value_0": str(born.day), "value_1": str(born.month),
            "value_2": str(born.year), "why": "Checked with the GP",
        })  # fmt: skip
        assert response.status_code == 302
        amendment = ReferralAmendment.objects.get()
        assert (amendment.before, amendment.after) == ("1970-07-04", born.isoformat())
        row = ReferralPerson.objects.get(referral=world["referral"], position=1)
        assert row.date_of_birth == born

    @pytest.mark.parametrize("key", ["Housing", "Fire", "Parks"])
    def test_only_coordinators_reach_the_pages(self, world, key):
        client = verified_client_for(world["staff"][key])
        reference = world["referral"].reference
        for url in (
            reverse("referrals:amend_choose", args=[reference]),
            reverse("referrals:amend", args=[reference, "people.people.0.phone"]),
        ):
            assert client.get(url).status_code == 404
            assert client.post(url, {"value": "1", "why": "x"}).status_code == 404
        assert not ReferralAmendment.objects.exists()
