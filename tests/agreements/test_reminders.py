"""Review reminders: 90, 60, 30, 7 and 1 days before a review, each once, to the
responsible officer and the signatories still to acknowledge, queued in the
outbox (jobs.mail), which delivers them with retries.

Time travel is by argument: the service takes ``today=`` and the command
``--date``; the task, which takes neither, runs under a patched
``timezone.localdate``.
"""

import smtplib
import threading
from collections import Counter
from datetime import date, timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import TestCase
from django.utils import timezone
from django_tasks import TaskResultStatus

from accounts.models import Role
from agreements.models import ChangeType, ReminderSent
from agreements.services import REMINDER_DAYS, reminders_send
from agreements.tasks import send_agreement_reminders_task
from jobs.mail import email_deliver
from jobs.models import EmailStatus, OutgoingEmail
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import (
    acknowledge,
    agreement_tree,
    publish_change,
    signatory_for,
)

pytestmark = pytest.mark.django_db

# agreement_tree() sets the first review a year after the effective date.
REVIEW = date(2027, 1, 6)


def day(days_before: int, review: date = REVIEW) -> date:
    return review - timedelta(days=days_before)


def committed():
    """Run the on-commit hooks (the outbox's delivery, here immediate) as a
    real commit would; the test's own transaction never commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def run(days_before: int, review: date = REVIEW) -> int:
    with committed():
        return reminders_send(today=day(days_before, review))


def worker_retries_due_emails() -> list[str]:
    """What the worker does when each retry falls due."""
    due = OutgoingEmail.objects.filter(status=EmailStatus.PENDING)
    due.update(next_attempt_at=timezone.now())
    return [email_deliver(pk) for pk in due.values_list("pk", flat=True)]


def reference(message) -> str:
    # Subjects end with the agreement's reference: "...: ISA-1".
    return message.subject.rsplit(": ", 1)[1]


def deliveries(mailoutbox) -> Counter:
    """How many emails each (recipient, agreement reference) pair got."""
    return Counter(
        (address, reference(message))
        for message in mailoutbox
        for address in message.to
    )


@pytest.fixture
def partnership():
    """The protocol and ISA, one organisation acknowledged, two outstanding, and
    people who must never get a reminder."""
    protocol, isa, organisations, officer = agreement_tree(effective=date(2026, 1, 6))
    done, pending, silent = organisations
    done_signer = signatory_for(done)
    acknowledge(protocol.latest_version, done, done_signer)
    acknowledge(isa.latest_version, done, done_signer)
    pending_signer = signatory_for(pending)
    silent_signer = signatory_for(silent)
    left = UserFactory(
        organisation=pending, roles=[Role.SIGNATORY.value], is_active=False
    )
    referrer = UserFactory(organisation=pending, roles=[Role.REFERRER.value])
    outsider = signatory_for(OrganisationFactory())
    return SimpleNamespace(
        protocol=protocol,
        isa=isa,
        officer=officer,
        organisations=organisations,
        done_signer=done_signer,
        pending_signer=pending_signer,
        silent_signer=silent_signer,
        recipients={officer.email, pending_signer.email, silent_signer.email},
        never={done_signer.email, left.email, referrer.email, outsider.email},
    )


def thresholds_marked(page, review: date = REVIEW) -> set[int]:
    return set(
        ReminderSent.objects.filter(page_id=page.pk, review_date=review).values_list(
            "days_before", flat=True
        )
    )


class TestThresholds:
    def test_first_reminder_goes_at_90_days_not_91(self, partnership, mailoutbox):
        assert run(91) == 0
        assert mailoutbox == []
        assert ReminderSent.objects.count() == 0

        count = run(90)

        # One email per recipient for each of the two agreements.
        assert count == len(mailoutbox) == 2 * len(partnership.recipients)
        assert {m.subject for m in mailoutbox} == {
            "Agreement review due in 90 days: P-1",
            "Agreement review due in 90 days: ISA-1",
        }
        assert thresholds_marked(partnership.isa) == {90}
        assert thresholds_marked(partnership.protocol) == {90}

    def test_a_second_run_the_same_day_sends_nothing(self, partnership, mailoutbox):
        first = run(60)
        assert first > 0
        assert run(60) == 0
        assert len(mailoutbox) == first

    def test_daily_runs_send_five_rounds_to_each_recipient(
        self, partnership, mailoutbox
    ):
        days_with_mail = []
        for days_before in range(100, -1, -1):
            # Twice a day, as if cron and the worker both ran it.
            if run(days_before) + run(days_before):
                days_with_mail.append(days_before)

        assert days_with_mail == list(REMINDER_DAYS)
        assert deliveries(mailoutbox) == {
            (address, ref): len(REMINDER_DAYS)
            for address in partnership.recipients
            for ref in ("P-1", "ISA-1")
        }
        officer_subjects = [
            m.subject
            for m in mailoutbox
            if m.to == [partnership.officer.email] and reference(m) == "ISA-1"
        ]
        assert officer_subjects == [
            "Agreement review due in 90 days: ISA-1",
            "Agreement review due in 60 days: ISA-1",
            "Agreement review due in 30 days: ISA-1",
            "Agreement review due in 7 days: ISA-1",
            "Agreement review due tomorrow: ISA-1",
        ]
        assert thresholds_marked(partnership.isa) == set(REMINDER_DAYS)

    def test_a_run_after_a_gap_sends_one_email_and_marks_what_it_skipped(
        self, partnership, mailoutbox
    ):
        assert run(95) == 0
        # Nobody ran it between 95 and 20 days before the review.
        count = run(20)

        assert count == len(mailoutbox) == 2 * len(partnership.recipients)
        assert Counter(deliveries(mailoutbox).values()) == {1: count}
        assert {m.subject for m in mailoutbox} == {
            "Agreement review due in 20 days: P-1",
            "Agreement review due in 20 days: ISA-1",
        }
        assert thresholds_marked(partnership.isa) == {90, 60, 30}
        assert thresholds_marked(partnership.protocol) == {90, 60, 30}
        # The next threshold still goes out, once.
        mailoutbox.clear()
        assert run(19) == 0
        assert run(7) == len(mailoutbox) == count

    def test_a_missed_last_day_goes_out_on_the_review_day(
        self, partnership, mailoutbox
    ):
        run(7)
        mailoutbox.clear()

        assert run(0) == len(mailoutbox) > 0
        assert {m.subject for m in mailoutbox} == {
            "Agreement review due today: P-1",
            "Agreement review due today: ISA-1",
        }
        assert thresholds_marked(partnership.isa) == {90, 60, 30, 7, 1}

    def test_nothing_after_the_review_date(self, partnership, mailoutbox):
        # Never run before, so every threshold is still unmarked.
        for days_after in range(1, 60):
            assert run(-days_after) == 0
        assert mailoutbox == []
        assert ReminderSent.objects.count() == 0

    def test_a_completed_review_starts_fresh_thresholds(self, partnership, mailoutbox):
        run(1)
        isa = publish_change(
            partnership.isa,
            partnership.officer,
            number="1.1",
            change_type=ChangeType.EDITORIAL,
            completes_review=True,
        )
        next_review = isa.latest_version.next_review_date
        assert next_review == date(2028, 1, 6)
        mailoutbox.clear()

        assert run(91, next_review) == 0
        count = run(90, next_review)

        # Only the ISA: the protocol's review date has passed and not moved.
        assert {reference(m) for m in mailoutbox} == {"ISA-1"}
        assert count == len(mailoutbox) == len(partnership.recipients)
        assert {m.subject for m in mailoutbox} == {
            "Agreement review due in 90 days: ISA-1"
        }
        assert "on 6 January 2028." in mailoutbox[0].body
        assert thresholds_marked(isa, next_review) == {90}
        assert thresholds_marked(isa) == set(REMINDER_DAYS)


class TestRecipients:
    def test_officer_and_signatories_still_to_acknowledge(
        self, partnership, mailoutbox
    ):
        run(90)

        addresses = {address for m in mailoutbox for address in m.to}
        assert addresses == partnership.recipients
        assert not addresses & partnership.never
        assert all(len(m.to) == 1 for m in mailoutbox)
        assert all(m.cc == [] and m.bcc == [] for m in mailoutbox)

    def test_each_agreement_counts_its_own_acknowledgements(
        self, partnership, mailoutbox
    ):
        pending = partnership.organisations[1]
        acknowledge(partnership.isa.latest_version, pending, partnership.pending_signer)

        run(90)

        got = deliveries(mailoutbox)
        assert (partnership.pending_signer.email, "P-1") in got
        assert (partnership.pending_signer.email, "ISA-1") not in got

    def test_a_material_change_needs_acknowledging_again(self, partnership, mailoutbox):
        publish_change(partnership.isa, partnership.officer, number="2.0")

        run(90)

        assert (partnership.done_signer.email, "ISA-1") in deliveries(mailoutbox)
        assert (partnership.done_signer.email, "P-1") not in deliveries(mailoutbox)

    def test_an_editorial_change_keeps_acknowledgements(self, partnership, mailoutbox):
        publish_change(
            partnership.isa,
            partnership.officer,
            number="1.1",
            change_type=ChangeType.EDITORIAL,
        )

        run(90)

        addresses = {address for m in mailoutbox for address in m.to}
        assert addresses == partnership.recipients

    def test_messages_say_why_each_person_gets_one(self, partnership, mailoutbox):
        run(90)

        isa_mail = {m.to[0]: m for m in mailoutbox if reference(m) == "ISA-1"}
        officer = isa_mail[partnership.officer.email].body
        signer = isa_mail[partnership.pending_signer.email].body
        for body in (officer, signer):
            assert "ISA-1 (CMARAC ISA) is due for review on 6 January 2027." in body
            assert "http://127.0.0.1:8000/agreements/" in body
        assert "You are its responsible officer" in officer
        assert "has not yet acknowledged version 1.0" in signer

    def test_an_inactive_officer_gets_nothing(self, partnership, mailoutbox):
        partnership.officer.is_active = False
        partnership.officer.save()

        run(90)

        addresses = {address for m in mailoutbox for address in m.to}
        assert addresses == partnership.recipients - {partnership.officer.email}

    def test_signatories_of_an_inactive_organisation_get_nothing(
        self, partnership, mailoutbox
    ):
        silent = partnership.organisations[2]
        silent.active = False
        silent.save()

        run(90)

        addresses = {address for m in mailoutbox for address in m.to}
        assert partnership.silent_signer.email not in addresses
        assert partnership.pending_signer.email in addresses

    def test_a_threshold_with_nobody_to_tell_is_still_marked(self, partnership):
        for organisation in partnership.organisations[1:]:
            acknowledge(partnership.isa.latest_version, organisation)
        partnership.officer.is_active = False
        partnership.officer.save()

        run(90)

        assert (
            ReminderSent.objects.get(
                page_id=partnership.isa.pk, days_before=90
            ).recipients
            == 0
        )


class TestContent:
    def test_no_agreement_text_in_any_email(self, partnership, mailoutbox):
        for days_before in REMINDER_DAYS:
            run(days_before)
        assert len(mailoutbox) == 2 * len(REMINDER_DAYS) * len(partnership.recipients)

        pieces = []
        for page in (partnership.protocol, partnership.isa):
            for clause in page.latest_version.clauses:
                pieces += [clause["heading"], clause["text"], clause["html"]]
        assert "Kept for two years after closure." in pieces
        for message in mailoutbox:
            assert message.attachments == []
            assert getattr(message, "alternatives", []) == []
            for piece in pieces:
                assert piece not in message.body
                assert piece not in message.subject


class TestDelivery:
    def test_a_refusing_server_is_retried_by_the_outbox_not_tomorrows_run(
        self, partnership, mailoutbox, monkeypatch
    ):
        from django.core.mail.backends.locmem import EmailBackend

        def refuse(self, messages):
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")

        with monkeypatch.context() as patched:
            patched.setattr(EmailBackend, "send_messages", refuse)
            queued = run(90)
        assert queued == 2 * len(partnership.recipients)
        assert mailoutbox == []
        waiting = OutgoingEmail.objects.filter(event__startswith="agreement-reminder")
        assert waiting.count() == queued
        for email in waiting:
            assert email.status == EmailStatus.PENDING
            assert email.attempts == 1
            assert "SMTPServerDisconnected" in email.last_error
            assert email.next_attempt_at > timezone.now()  # backoff, not tomorrow

        # The server is back: the retries deliver each reminder, once.
        assert worker_retries_due_emails() == ["sent"] * queued
        assert len(mailoutbox) == queued
        assert Counter(deliveries(mailoutbox).values()) == {1: queued}
        assert thresholds_marked(partnership.isa) == {90}
        assert run(89) == 0
        assert len(mailoutbox) == queued

    def test_one_refused_address_does_not_stop_the_others(
        self, partnership, mailoutbox, monkeypatch
    ):
        from django.core.mail.backends.locmem import EmailBackend

        deliver = EmailBackend.send_messages
        bad = partnership.silent_signer.email

        def refuse_one(self, messages):
            if any(bad in m.to for m in messages):
                raise smtplib.SMTPRecipientsRefused({bad: (550, b"No such user")})
            return deliver(self, messages)

        monkeypatch.setattr(EmailBackend, "send_messages", refuse_one)
        count = run(90)

        assert count == 2 * len(partnership.recipients)
        assert len(mailoutbox) == 2 * (len(partnership.recipients) - 1)
        assert bad not in {address for m in mailoutbox for address in m.to}
        # The others got theirs, so the threshold is done: no daily repeats;
        # the refused address is the outbox's to retry.
        assert thresholds_marked(partnership.isa) == {90}
        assert set(
            OutgoingEmail.objects.filter(status=EmailStatus.PENDING).values_list(
                "to", flat=True
            )
        ) == {bad}
        assert run(89) == 0

    def test_a_lost_claim_still_queues_nobody_twice(self, partnership, mailoutbox):
        first = run(90)
        assert first == len(mailoutbox) > 0
        # The outbox's key (agreement version, milestone, person) still holds.
        ReminderSent.objects.all().delete()

        assert run(90) == 0
        assert len(mailoutbox) == first

    def test_a_threshold_claimed_by_an_overlapping_run_is_left_to_it(
        self, partnership, mailoutbox, monkeypatch
    ):
        from agreements import selectors

        coverage = selectors.coverage

        def overlapping_run_claims_first(version, **kwargs):
            # Another run (cron and a worker at once) commits its claim after
            # this run read the claims but before it writes its own.
            if version.page_id == partnership.isa.pk:
                ReminderSent.objects.get_or_create(
                    page_id=version.page_id,
                    review_date=version.next_review_date,
                    days_before=90,
                )
            return coverage(version, **kwargs)

        monkeypatch.setattr(selectors, "coverage", overlapping_run_claims_first)
        count = run(90)

        assert {reference(m) for m in mailoutbox} == {"P-1"}
        assert count == len(mailoutbox) == len(partnership.recipients)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrent runs need PostgreSQL"
)
@pytest.mark.django_db(transaction=True)
def test_overlapping_runs_send_each_reminder_once(mailoutbox):
    _, _, organisations, _ = agreement_tree(effective=date(2026, 1, 6))
    for organisation in organisations:
        signatory_for(organisation)
    runs = 4
    counts, errors = [], []
    barrier = threading.Barrier(runs)

    def remind():
        try:
            barrier.wait()
            counts.append(run(90))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=remind) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # The officer and three signatories, for each of the two agreements.
    assert sum(counts) == len(mailoutbox) == 2 * (1 + len(organisations))
    assert Counter(deliveries(mailoutbox).values()) == {1: len(mailoutbox)}
    assert ReminderSent.objects.count() == 2


class TestCommand:
    def test_sends_for_the_given_date(self, partnership, mailoutbox):
        out = StringIO()
        with committed():
            call_command("send_agreement_reminders", "--date", "2026-10-08", stdout=out)

        assert day(90) == date(2026, 10, 8)
        assert len(mailoutbox) == 2 * len(partnership.recipients)
        assert out.getvalue() == f"Queued {len(mailoutbox)} review reminder emails.\n"
        assert {m.subject for m in mailoutbox} == {
            "Agreement review due in 90 days: P-1",
            "Agreement review due in 90 days: ISA-1",
        }

    def test_says_when_there_is_nothing_to_send(self, partnership, mailoutbox):
        out = StringIO()
        call_command("send_agreement_reminders", "--date", "2026-10-07", stdout=out)

        assert mailoutbox == []
        assert out.getvalue() == "Queued 0 review reminder emails.\n"

    def test_defaults_to_today(self, partnership, mailoutbox, monkeypatch):
        monkeypatch.setattr(
            "django.utils.timezone.localdate", lambda *args, **kwargs: day(7)
        )
        out = StringIO()
        with committed():
            call_command("send_agreement_reminders", stdout=out)

        assert {m.subject for m in mailoutbox} == {
            "Agreement review due in 7 days: P-1",
            "Agreement review due in 7 days: ISA-1",
        }

    @pytest.mark.parametrize("value", ["2026-13-01", "08/10/2026", "tomorrow", ""])
    def test_a_bad_date_is_explained(self, partnership, mailoutbox, value):
        with pytest.raises(CommandError, match="YYYY-MM-DD"):
            call_command("send_agreement_reminders", "--date", value)
        assert mailoutbox == []


class TestTask:
    def test_the_task_sends_todays_reminders(
        self, partnership, mailoutbox, monkeypatch
    ):
        monkeypatch.setattr(
            "django.utils.timezone.localdate", lambda *args, **kwargs: day(30)
        )

        with committed():
            result = send_agreement_reminders_task.enqueue()

        assert result.status == TaskResultStatus.SUCCESSFUL
        assert result.return_value == len(mailoutbox) == 2 * len(partnership.recipients)
        assert {m.subject for m in mailoutbox} == {
            "Agreement review due in 30 days: P-1",
            "Agreement review due in 30 days: ISA-1",
        }
        # A second enqueue the same day finds nothing new.
        assert send_agreement_reminders_task.enqueue().return_value == 0
