"""Opening any meeting edit form and saving it unchanged changes nothing: not
the records, not the shares, not the audit trail (beyond the page read).

Each test renders the form, reads what its inputs show (``tests.forms``) and
posts exactly that back, as a person pressing save without typing would.
"""

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from meetings.models import Action, AgendaItem, Attendance, Meeting
from meetings.services import (
    action_add,
    action_update,
    attendance_record,
    case_discussion_record,
    minutes_save,
    papers_issue,
)
from referrals.models import ReferralShare
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import (
    accepted,
    coordinator,
    meeting,
    on_agenda,
    started,
)
from tests.factories.referrals import submitted_referral
from tests.forms import post_back_unchanged
from tests.shared_setup import read_again, rolled_back_after_module

pytestmark = pytest.mark.django_db


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
    """A meeting under way, recorded so far: a Housing case with Police and
    Fire invited, its discussion, an action for Police, two people on the
    register, and draft minutes."""
    boss = coordinator()
    police, housing, fire = (OrganisationFactory(name=n) for n in
                             ("Police", "Housing", "Fire"))  # fmt: skip
    referrer = UserFactory(organisation=housing, roles=[Role.REFERRER])
    upcoming = meeting(boss, days_ahead=1)
    item = on_agenda(upcoming, accepted(submitted_referral(referrer), boss),
                     [police, fire], boss)  # fmt: skip
    papers_issue(meeting=upcoming, user=boss)
    started(upcoming)
    attendance_record(
        meeting=upcoming,
        organisation=police,
        name="Sam Sergeant",
        status="present",
        confidentiality_confirmed=True,
        user=boss,
    )
    attendance_record(
        meeting=upcoming,
        organisation=fire,
        name="Fay Fire",
        status="apologies",
        confidentiality_confirmed=False,
        user=boss,
    )
    case_discussion_record(
        item=item,
        discussion="Talked it through.\n\nTwice.",
        risk_after="medium",
        decisions="  ",
        user=boss,
    )
    action = action_add(
        item=item,
        owner=police,
        officer="PC Example",
        description="Visit the address",
        due=timezone.localdate() + timedelta(days=14),
        user=boss,
    )
    officer = UserFactory(organisation=police, roles=[Role.REFERRER])
    action_update(
        action=action,
        user=officer,
        status="open",
        update="Booked for Tuesday & <Wednesday>.\nCalled twice.",
    )
    minutes_save(
        meeting=upcoming,
        general_minutes="Apologies: Fire.\nNo other business.",
        user=boss,
    )
    return {"boss": boss, "officer": officer, "meeting": upcoming, "item": item,
            "action": action, "police": police, "fire": fire}  # fmt: skip


def _state() -> dict:
    """Everything a meeting form could change, and the audit trail's changes."""
    return {
        "meetings": [model_to_dict(m) for m in Meeting.objects.order_by("pk")],
        "items": [
            {**model_to_dict(i), "invited": sorted(o.pk for o in i.invited.all())}
            for i in AgendaItem.objects.order_by("pk")
        ],
        "attendance": [
            model_to_dict(a) | {"confirmed_at": a.confidentiality_confirmed_at}
            for a in Attendance.objects.order_by("pk")
        ],
        "actions": [
            model_to_dict(a) | {"updated_at": a.updated_at}
            for a in Action.objects.order_by("pk")
        ],
        "shares": sorted(
            ReferralShare.objects.values_list("referral_id", "organisation_id")
        ),
        "changes": list(
            AuditEvent.objects.exclude(action="read").values_list("action", flat=True)
        ),
    }


def _saved_unchanged(client, url, *, with_field, button=None):
    before = _state()
    response = post_back_unchanged(client, url, with_field=with_field, button=button)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _state() == before


class TestSavingUnchangedChangesNothing:
    def test_who_is_invited(self, world):
        url = reverse(
            "meetings:agenda_invite", args=[world["meeting"].pk, world["item"].pk]
        )
        _saved_unchanged(verified_client_for(world["boss"]), url, with_field="invited")

    def test_an_attendance_row(self, world):
        client = verified_client_for(world["boss"])
        base = reverse("meetings:record", args=[world["meeting"].pk])
        for row in Attendance.objects.all():
            _saved_unchanged(client, f"{base}?change={row.pk}", with_field="name")

    def test_a_case_discussion(self, world):
        url = reverse(
            "meetings:record_case", args=[world["meeting"].pk, world["item"].pk]
        )
        _saved_unchanged(
            verified_client_for(world["boss"]),
            url,
            with_field="discussion-discussion",
        )

    def test_the_general_minutes(self, world):
        url = reverse("meetings:minutes", args=[world["meeting"].pk])
        _saved_unchanged(
            verified_client_for(world["boss"]),
            url,
            with_field="general_minutes",
            button="save",
        )

    def test_an_agencys_progress_on_an_action(self, world):
        url = reverse("meetings:update_action", args=[world["action"].pk])
        _saved_unchanged(
            verified_client_for(world["officer"]), url, with_field="update"
        )

    def test_the_meeting_in_the_admin(self, world):
        # Ahead again, on the minute as scheduling sets it (the admin shows
        # hours and minutes).
        ahead = timezone.now().replace(second=0, microsecond=0) + timedelta(days=3)
        Meeting.objects.filter(pk=world["meeting"].pk).update(starts_at=ahead)
        url = f"/admin/meetings/meeting/edit/{world['meeting'].pk}/"
        _saved_unchanged(verified_client_for(world["boss"]), url, with_field="chair")

    def test_an_action_in_the_admin(self, world):
        # The agency's note has a line break, which the browser sends back as
        # CRLF: saved unchanged, it must stay as stored.
        url = f"/admin/meetings/action/edit/{world['action'].pk}/"
        _saved_unchanged(verified_client_for(world["boss"]), url, with_field="update")
