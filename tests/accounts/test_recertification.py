"""Quarterly recertification and dormant accounts, with time travel.

The service takes ``today=`` and the command ``--date``, as the agreement
reminders do, so each test walks the days of a round.
"""

from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from accounts.audit_actions import GovernanceAction, UserChange
from accounts.models import (
    EntryStatus,
    RecertificationRound,
    Role,
    SuspensionReason,
    User,
)
from accounts.services import (
    REMINDER_DAYS,
    Answer,
    GovernanceRefused,
    recertification_answer,
    recertification_run,
)
from audit.models import AuditEvent
from audit.services import audit_chain_verify
from jobs.models import OutgoingEmail
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

OPENED = date(2026, 4, 1)
DEADLINE = OPENED + timedelta(days=14)


def committed():
    return TestCase.captureOnCommitCallbacks(execute=True)


def run(day: date):
    with committed():
        return recertification_run(today=day)


def signed_in(person, day: date) -> None:
    """A sign-in on ``day`` (at noon), so nobody is dormant by accident."""
    moment = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    person.last_login = moment + timedelta(hours=12)
    person.save(update_fields=["last_login"])


@pytest.fixture
def agency():
    organisation = OrganisationFactory(name="Agency A")
    contact = UserFactory(organisation=organisation, roles=[Role.SIGNATORY])
    organisation.single_point_of_contact = contact
    organisation.save()
    kept = UserFactory(organisation=organisation, roles=[Role.REFERRER])
    trimmed = UserFactory(
        organisation=organisation, roles=[Role.REFERRER, Role.SIGNATORY]
    )
    forgotten = UserFactory(organisation=organisation, roles=[Role.REFERRER])
    for person in (contact, kept, trimmed, forgotten):
        signed_in(person, OPENED)
    return {
        "organisation": organisation,
        "contact": contact,
        "kept": kept,
        "trimmed": trimmed,
        "forgotten": forgotten,
    }


def reminders(contact) -> list[str]:
    return list(
        OutgoingEmail.objects.filter(to=contact.email, event__contains="reminder")
        .order_by("id")
        .values_list("event", flat=True)
    )


class TestOpening:
    def test_a_round_opens_for_everyone_but_the_contact_and_tells_them(
        self, agency, mailoutbox
    ):
        result = run(OPENED)
        assert result.opened == 1
        round_ = RecertificationRound.objects.get()
        assert round_.deadline == DEADLINE
        people = {e.user for e in round_.entries.all()}
        assert people == {agency["kept"], agency["trimmed"], agency["forgotten"]}
        trimmed = round_.entries.get(user=agency["trimmed"])
        assert trimmed.roles_at_opening == ["Referrers", "Signatories"]
        (email,) = mailoutbox
        assert email.to == [agency["contact"].email]
        assert "15 April 2026" in email.body
        for person in ("kept", "trimmed", "forgotten"):
            assert agency[person].last_name not in email.body

    def test_the_next_round_opens_a_quarter_later(self, agency, settings):
        run(OPENED)
        round_ = RecertificationRound.objects.get()
        everyone_confirmed(round_, agency)
        interval = settings.RECERTIFICATION_INTERVAL_DAYS
        for person in User.objects.all():
            signed_in(person, OPENED + timedelta(days=interval - 1))
        assert run(OPENED + timedelta(days=interval - 1)).opened == 0
        assert run(OPENED + timedelta(days=interval)).opened == 1

    def test_no_round_without_a_valid_contact(self, agency):
        organisation = agency["organisation"]
        mover = agency["contact"]
        # Data from before the rule: a contact who now works elsewhere.
        User.objects.filter(pk=mover.pk).update(
            organisation=OrganisationFactory(party=False)
        )
        result = run(OPENED)
        assert organisation.slug in result.skipped
        assert not RecertificationRound.objects.filter(
            organisation=organisation
        ).exists()
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        page = verified_client_for(coordinator).get(
            reverse("accounts:recertification_progress")
        )
        assert "No valid single point of contact" in page.content.decode()


def everyone_confirmed(round_, agency):
    recertification_answer(
        round_=round_,
        contact=agency["contact"],
        answers={
            agency[p].pk: Answer(keep=True, roles_kept=sorted(agency[p].role_names))
            for p in ("kept", "trimmed", "forgotten")
        },
    )


class TestReminders:
    @pytest.mark.parametrize("days_before", REMINDER_DAYS)
    def test_a_reminder_goes_on_the_day_not_the_day_before(self, agency, days_before):
        run(OPENED)
        run(DEADLINE - timedelta(days=days_before + 1))
        sent = len(reminders(agency["contact"]))
        run(DEADLINE - timedelta(days=days_before))
        assert len(reminders(agency["contact"])) == sent + 1

    def test_daily_runs_send_7_3_and_1_days_before_each_once(self, agency):
        for offset in range(15):
            run(OPENED + timedelta(days=offset))
            run(OPENED + timedelta(days=offset))  # twice a day: nothing twice
        round_id = RecertificationRound.objects.get().pk
        assert reminders(agency["contact"]) == [
            f"recertification-{round_id}-reminder-{days}" for days in REMINDER_DAYS
        ]
        events = AuditEvent.objects.filter(
            action=GovernanceAction.RECERTIFICATION_REMINDED
        )
        assert sorted(e.detail["days_left"] for e in events) == [1, 3, 7]

    def test_a_reminder_names_nobody_but_the_contact(self, agency, mailoutbox):
        run(OPENED)
        run(DEADLINE - timedelta(days=7))
        (email,) = [m for m in mailoutbox if m.subject.startswith("Access review")]
        assert agency["contact"].first_name in email.body
        assert "3 people are still to be confirmed" in email.body
        for person in ("kept", "trimmed", "forgotten"):
            assert agency[person].last_name not in email.body
            assert agency[person].email not in email.body

    def test_a_missed_run_sends_one_reminder_not_three(self, agency):
        run(OPENED)
        run(DEADLINE - timedelta(days=1))
        assert len(reminders(agency["contact"])) == 1
        run(DEADLINE)
        assert len(reminders(agency["contact"])) == 1

    def test_no_reminder_once_everyone_is_answered(self, agency):
        run(OPENED)
        everyone_confirmed(RecertificationRound.objects.get(), agency)
        for days_before in REMINDER_DAYS:
            run(DEADLINE - timedelta(days=days_before))
        assert reminders(agency["contact"]) == []


class TestDeadline:
    def test_unconfirmed_people_are_suspended_after_the_deadline_and_told(
        self, agency, mailoutbox
    ):
        run(OPENED)
        round_ = RecertificationRound.objects.get()
        recertification_answer(
            round_=round_,
            contact=agency["contact"],
            answers={
                agency["kept"].pk: Answer(keep=True, roles_kept=["Referrers"]),
                agency["trimmed"].pk: Answer(keep=True, roles_kept=["Referrers"]),
            },
        )
        for person in User.objects.all():
            signed_in(person, DEADLINE)
        run(DEADLINE)  # the last day to answer: nobody suspended yet
        assert User.objects.get(pk=agency["forgotten"].pk).is_active
        last = AuditEvent.objects.order_by("-id").first().id
        result = run(DEADLINE + timedelta(days=1))
        assert (result.closed, result.lapsed) == (1, 1)

        forgotten = User.objects.get(pk=agency["forgotten"].pk)
        assert not forgotten.is_active
        assert forgotten.suspension_reason == SuspensionReason.NOT_RECERTIFIED
        (email,) = [m for m in mailoutbox if m.to == [forgotten.email]]
        assert "not confirmed by the review's deadline" in email.body
        # Confirmed people are untouched, with the roles the contact kept.
        kept = User.objects.get(pk=agency["kept"].pk)
        trimmed = User.objects.get(pk=agency["trimmed"].pk)
        assert kept.is_active and kept.role_names == {"Referrers"}
        assert trimmed.is_active and trimmed.role_names == {"Referrers"}
        assert not OutgoingEmail.objects.filter(to__in=[kept.email, trimmed.email])

        round_.refresh_from_db()
        assert not round_.is_open
        assert round_.entries.get(user=forgotten).status == EntryStatus.LAPSED
        events = AuditEvent.objects.filter(id__gt=last).order_by("id")
        suspended = [e for e in events if e.action == UserChange.SUSPENDED]
        assert len(suspended) == 1
        assert suspended[0].object_id == str(forgotten.pk)
        assert suspended[0].actor is None
        assert suspended[0].detail["via"] == "job:recertify_accounts"
        assert audit_chain_verify().intact

        # Running again suspends and sends nothing more.
        emails = OutgoingEmail.objects.count()
        assert run(DEADLINE + timedelta(days=1)).lapsed == 0
        assert OutgoingEmail.objects.count() == emails

    def test_a_round_answered_in_full_closes_at_once(self, agency):
        run(OPENED)
        round_ = RecertificationRound.objects.get()
        everyone_confirmed(round_, agency)
        round_.refresh_from_db()
        assert not round_.is_open
        with pytest.raises(GovernanceRefused):
            everyone_confirmed(round_, agency)

    def test_a_removed_person_is_suspended_at_once(self, agency):
        run(OPENED)
        recertification_answer(
            round_=RecertificationRound.objects.get(),
            contact=agency["contact"],
            answers={agency["kept"].pk: Answer(keep=False)},
        )
        kept = User.objects.get(pk=agency["kept"].pk)
        assert kept.suspension_reason == SuspensionReason.REMOVED_AT_RECERTIFICATION
        event = AuditEvent.objects.get(action=UserChange.SUSPENDED)
        assert event.actor == agency["contact"]

    def test_only_the_contact_answers(self, agency):
        run(OPENED)
        with pytest.raises(GovernanceRefused):
            recertification_answer(
                round_=RecertificationRound.objects.get(),
                contact=agency["kept"],
                answers={agency["kept"].pk: Answer(keep=True)},
            )


class TestScreen:
    def test_a_kept_person_must_keep_a_role(self, agency):
        run(OPENED)
        client = verified_client_for(agency["contact"])
        url = reverse("accounts:recertification")
        kept = agency["kept"]
        response = client.post(url, {f"decision_{kept.pk}": "keep"})
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert f"Keep at least one role for {kept}" in page
        assert 'value="keep" checked' in page

    def test_nothing_chosen_is_refused(self, agency):
        run(OPENED)
        client = verified_client_for(agency["contact"])
        response = client.post(reverse("accounts:recertification"), {})
        assert response.status_code == 400
        assert "Choose keep or remove for at least one person" in (
            response.content.decode()
        )

    def test_answers_are_stored_and_shown(self, agency):
        run(OPENED)
        client = verified_client_for(agency["contact"])
        url = reverse("accounts:recertification")
        kept, trimmed = agency["kept"], agency["trimmed"]
        response = client.post(
            url,
            {
                f"decision_{kept.pk}": "keep",
                f"roles_{kept.pk}": ["Referrers"],
                f"decision_{trimmed.pk}": "keep",
                f"roles_{trimmed.pk}": ["Referrers"],
            },
        )
        assert response.status_code == 302
        page = client.get(url).content.decode()
        assert "Already answered" in page
        assert f"decision_{agency['forgotten'].pk}" in page
        assert f"decision_{kept.pk}" not in page
        assert User.objects.get(pk=trimmed.pk).role_names == {"Referrers"}
        removed = AuditEvent.objects.get(action=UserChange.ROLES_REMOVED)
        assert removed.detail["roles"] == ["Signatories"]
        assert removed.actor == agency["contact"]


class TestDormant:
    def test_suspended_on_the_90th_day_not_the_89th(self, agency, settings, mailoutbox):
        settings.DORMANT_ACCOUNT_DAYS = 90
        person = agency["kept"]
        signed_in(person, OPENED)
        others = [agency[p] for p in ("contact", "trimmed", "forgotten")]
        for other in others:
            signed_in(other, OPENED + timedelta(days=60))
        with committed():
            call_command(
                "recertify_accounts",
                "--date",
                str(OPENED + timedelta(days=89)),
                stdout=StringIO(),
            )
        assert User.objects.get(pk=person.pk).is_active
        out = StringIO()
        with committed():
            call_command(
                "recertify_accounts",
                "--date",
                str(OPENED + timedelta(days=90)),
                stdout=out,
            )
        assert "1 dormant accounts suspended" in out.getvalue()
        person = User.objects.get(pk=person.pk)
        assert not person.is_active
        assert person.suspension_reason == SuspensionReason.DORMANT
        (email,) = [m for m in mailoutbox if m.to == [person.email]]
        assert "has not been used for 90 days" in email.body
        assert all(User.objects.get(pk=o.pk).is_active for o in others)

    def test_never_signed_in_counts_from_the_accounts_making(self, agency):
        fresh = UserFactory(organisation=agency["organisation"])
        User.objects.filter(pk=fresh.pk).update(
            date_joined=timezone.make_aware(datetime(2026, 1, 1, 9))
        )
        recertification_run(today=date(2026, 3, 31))
        assert User.objects.get(pk=fresh.pk).is_active
        recertification_run(today=date(2026, 4, 1))
        assert not User.objects.get(pk=fresh.pk).is_active

    def test_administrators_are_not_suspended(self):
        administrator = UserFactory(organisation=None, is_superuser=True)
        recertification_run(today=date.today() + timedelta(days=400))
        assert User.objects.get(pk=administrator.pk).is_active
