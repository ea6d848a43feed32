"""Case notes on an accepted case: added (never edited) by the coordinator
and the agencies with access, audited, shown by the redaction rule, put in
the meeting pack since the last meeting and found by the person index."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from meetings.services.packs import pack_context
from referrals.audit_actions import ReferralAction
from referrals.models import CaseNote, Status
from referrals.services import (
    NOTE_MAX_LENGTH,
    ReferralRefused,
    case_note_add,
    referral_restrict,
)
from rights.sources import SOURCES_BY_KEY
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import share, submitted_referral
from tests.shared_setup import read_again, rolled_back_after_module

pytestmark = pytest.mark.django_db

NAME = "Philippa Notewright"


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
    police = OrganisationFactory(name="Police")
    referral = accepted(submitted_referral(), boss)
    share(referral, police)
    officer = UserFactory(organisation=police, roles=[Role.REFERRER])
    return {"boss": boss, "police": police, "referral": referral, "officer": officer}


class TestAdding:
    def test_an_invited_agency_adds_a_note_with_its_author(self, world):
        note = case_note_add(
            referral=world["referral"], user=world["officer"], text=f" Saw {NAME}. "
        )
        assert note.text == f"Saw {NAME}."
        assert note.author == world["officer"]
        assert note.organisation_label == "Police"
        assert note.created_at <= timezone.now()
        row = AuditEvent.objects.get(action=ReferralAction.NOTE_ADDED)
        assert row.detail == {"visibility": "case_access"}
        assert NAME not in str(row.detail)

    def test_a_blank_or_long_note_is_refused(self, world):
        too_long = "x" * (NOTE_MAX_LENGTH + 1)
        for text, message in (
            ("  ", "Enter the case note"),
            (too_long, "characters or fewer"),
        ):
            with pytest.raises(ReferralRefused, match=message):
                case_note_add(referral=world["referral"], user=world["boss"], text=text)
        assert not CaseNote.objects.exists()

    def test_only_coordinators_keep_a_note_to_themselves(self, world):
        with pytest.raises(ReferralRefused, match="Only coordinators"):
            case_note_add(referral=world["referral"], user=world["officer"],
                          text="Private", coordinators_only=True)  # fmt: skip

    def test_refused_without_case_access(self, world):
        outsider = UserFactory(roles=[Role.REFERRER])
        with pytest.raises(ReferralRefused, match="do not have access"):
            case_note_add(referral=world["referral"], user=outsider, text="Hello")

    def test_refused_before_acceptance(self):
        referral = submitted_referral()
        with pytest.raises(ReferralRefused, match="only while the case is accepted"):
            case_note_add(referral=referral, user=coordinator(), text="Too early")

    def test_refused_while_restricted(self, world):
        referral_restrict(referral=world["referral"], user=world["boss"],
                          reason="Disputed")  # fmt: skip
        with pytest.raises(ReferralRefused, match="restricted"):
            case_note_add(referral=world["referral"], user=world["boss"], text="x")


class TestWhoReadsThem:
    def test_coordinator_only_notes_are_hidden_from_agencies(self, world):
        referral = world["referral"]
        case_note_add(referral=referral, user=world["officer"], text="Visited today")
        case_note_add(referral=referral, user=world["boss"], text=f"{NAME} said more",
                      coordinators_only=True)  # fmt: skip
        police_page = verified_client_for(world["officer"]).get(
            referral.get_absolute_url()
        )
        assert "Visited today" in police_page.content.decode()
        assert NAME not in police_page.content.decode()
        boss_page = verified_client_for(world["boss"]).get(referral.get_absolute_url())
        assert NAME in boss_page.content.decode()
        assert "Coordinators only" in boss_page.content.decode()

    def test_the_pack_has_the_notes_since_the_last_meeting(self, world):
        referral, boss, police = world["referral"], world["boss"], world["police"]
        earlier = on_agenda(meeting(boss, days_ahead=1), referral, [police], boss)
        old = case_note_add(referral=referral, user=boss, text="Before the meeting")
        CaseNote.objects.filter(pk=old.pk).update(
            created_at=earlier.meeting.starts_at - timedelta(days=1)
        )
        case_note_add(referral=referral, user=world["officer"], text="Since then")
        later = CaseNote.objects.get(text="Since then")
        CaseNote.objects.filter(pk=later.pk).update(
            created_at=earlier.meeting.starts_at + timedelta(hours=3)
        )
        case_note_add(referral=referral, user=boss, text="Secret",
                      coordinators_only=True)  # fmt: skip
        upcoming = meeting(boss, days_ahead=14)
        on_agenda(upcoming, referral, [police], boss)
        [case] = pack_context(upcoming, police)["cases"]
        assert [note.text for note in case["notes"]] == ["Since then"]


class TestTheForm:
    def test_the_agency_adds_a_note_from_the_case_page(self, world):
        client = verified_client_for(world["officer"])
        url = f"/referrals/{world['referral'].reference}/notes/"
        response = client.post(url, {"text": "Called the school"})
        assert response.status_code == 302
        assert CaseNote.objects.get().text == "Called the school"

    def test_a_blank_note_comes_back_with_400(self, world):
        client = verified_client_for(world["officer"])
        url = f"/referrals/{world['referral'].reference}/notes/"
        response = client.post(url, {"text": " "})
        assert response.status_code == 400
        body = response.content.decode()
        assert 'href="#note-text"' in body
        assert 'id="note-text-error"' in body

    def test_no_form_on_a_case_that_is_not_accepted(self, world):
        referral = submitted_referral()
        page = verified_client_for(world["boss"]).get(referral.get_absolute_url())
        assert referral.status == Status.SUBMITTED
        assert b"Add a case note" not in page.content


def test_the_person_index_reads_case_notes(world):
    note = case_note_add(referral=world["referral"], user=world["boss"],
                         text=f"{NAME} phoned")  # fmt: skip
    source = SOURCES_BY_KEY["case-note"]
    assert note in source.records()
    texts = [m.text for m in source.mentions(note)]
    assert any("notewright" in text for text in texts)
    assert source.belongs(note) == {"referral_id": world["referral"].pk}
