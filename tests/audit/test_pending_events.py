"""Events are recorded without waiting for the chain's lock and chained in
batches (audit.services, docs/audit.md): an event commits exactly with the
change it records, waits protected and signed until it is chained, and
verify_audit reports one altered, copied or left waiting too long."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction
from django.utils import timezone

from audit.models import AuditEvent, AuditPendingEvent
from audit.selectors import audit_events
from audit.services import audit_chain_pending, audit_chain_verify, audit_record
from tests.conftest import append_only_triggers_suspended
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def verify() -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    return str(failure.value)


def lock_held_elsewhere():
    """Another session is chaining (or stuck holding the chain's lock)."""
    return mock.patch("audit.services._chain_try_lock", return_value=False)


def recorded_while_locked(action: str, **kwargs) -> AuditEvent:
    with lock_held_elsewhere():
        return audit_record(action=action, **kwargs)


class TestAnEventCommitsWithItsChange:
    def test_a_rolled_back_change_leaves_no_event_chained_or_pending(self):
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(action="test.rolled_back")
            raise RuntimeError("the change failed")
        with pytest.raises(RuntimeError), transaction.atomic():
            recorded_while_locked("test.rolled_back")
            raise RuntimeError("the change failed")
        assert not audit_events().filter(action="test.rolled_back").exists()
        assert not AuditPendingEvent.objects.exists()

    def test_a_committed_change_has_its_event_chained_at_once(self):
        person = UserFactory()
        with transaction.atomic():
            event = audit_record(action="test.saved", actor=person, obj=person)
        stored = AuditEvent.objects.get(pk=event.pk)
        assert (stored.action, stored.actor_label) == ("test.saved", person.username)
        assert stored.hash == event.hash
        assert not AuditPendingEvent.objects.exists()


class TestAFreeChainIsWrittenOnceAtOnce:
    def test_the_event_is_linked_without_a_pending_row(self, django_assert_num_queries):
        audit_record(action="test.before")
        # The newest hash and whether anything waits, then the insert
        # (PostgreSQL adds the lock): no pending row written, read or deleted.
        with django_assert_num_queries(3 if _postgresql() else 2):
            event = audit_record(action="test.at_once")
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.pending_id is None
        assert stored.hash == event.hash
        before = AuditEvent.objects.get(action="test.before")
        assert stored.previous_hash == before.hash
        call_command("verify_audit")

    @pytest.mark.django_db(transaction=True)
    def test_outside_a_transaction_it_commits_by_itself(self):
        event = audit_record(action="test.alone")
        assert AuditEvent.objects.get(pk=event.pk).pending_id is None
        assert not AuditPendingEvent.objects.exists()
        call_command("verify_audit")


def _postgresql() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


class TestAWriterNeverWaitsForTheLock:
    def test_the_event_waits_pending_and_is_returned_without_id(self):
        event = recorded_while_locked("test.waiting", detail={"count": 3})
        assert event.pk is None
        assert (event.action, event.detail) == ("test.waiting", {"count": 3})
        assert not AuditEvent.objects.filter(action="test.waiting").exists()
        pending = AuditPendingEvent.objects.get()
        assert pending.id == event.pending_id

    def test_readers_chain_waiting_events_before_reading(self):
        recorded_while_locked("test.waiting")
        assert list(audit_events().values_list("action", flat=True)) == ["test.waiting"]
        assert not AuditPendingEvent.objects.exists()

    def test_the_next_writer_chains_them_in_the_order_recorded(self):
        for n in range(3):
            recorded_while_locked(f"test.waiting.{n}")
        audit_record(action="test.next")
        actions = AuditEvent.objects.order_by("id").values_list("action", flat=True)
        assert list(actions) == [
            "test.waiting.0",
            "test.waiting.1",
            "test.waiting.2",
            "test.next",
        ]
        call_command("verify_audit")

    def test_the_scheduled_sweep_chains_what_is_left(self, capsys):
        recorded_while_locked("test.left")
        call_command("audit_chain")
        assert "1 pending audit event chained." in capsys.readouterr().out
        assert AuditEvent.objects.filter(action="test.left").exists()
        assert audit_chain_verify().intact


class TestAWaitingEventIsProtected:
    def test_it_cannot_be_changed_or_deleted(self):
        recorded_while_locked("test.waiting")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditPendingEvent.objects.update(action="test.edited")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditPendingEvent.objects.all().delete()
        assert AuditPendingEvent.objects.get().action == "test.waiting"

    def test_an_altered_one_is_never_chained_and_is_reported(self):
        audit_record(action="test.before")
        recorded_while_locked("test.download", detail={"count": 1})
        with append_only_triggers_suspended():
            AuditPendingEvent.objects.update(detail={"count": 0})
        audit_chain_pending()
        assert not AuditEvent.objects.filter(action="test.download").exists()
        row = AuditPendingEvent.objects.get()
        message = verify()
        assert f"The pending audit event {row.id}" in message
        assert "its content does not match its HMAC" in message

    def test_a_copy_of_a_chained_one_is_never_chained_again(self):
        recorded_while_locked("test.download")
        row = AuditPendingEvent.objects.get()
        audit_chain_pending()
        # Someone who kept the row puts it back, to make the log say twice
        # that a file was downloaded.
        with append_only_triggers_suspended():
            row.save(force_insert=True)
        audit_chain_pending()
        assert AuditEvent.objects.filter(action="test.download").count() == 1
        assert "it copies an event already chained" in verify()

    def test_one_left_waiting_too_long_is_reported(self, settings):
        settings.AUDIT_PENDING_GRACE_SECONDS = 10
        with mock.patch(
            "django.utils.timezone.now",
            return_value=timezone.now() - timedelta(seconds=30),
        ):
            recorded_while_locked("test.stuck")
        recorded_while_locked("test.recent")
        with lock_held_elsewhere():
            message = verify()
        assert "1 audit event recorded since" in message
        assert "has waited more than 10 seconds to be chained" in message
        # Once the lock is free, verify chains it and finds nothing wrong.
        assert audit_chain_verify().intact
        assert audit_chain_verify().pending == 0


class TestEventsThatCannotBeChainedHoldNothingBack:
    def test_a_full_batch_of_them_does_not_stop_newer_events(self, monkeypatch):
        # Two altered rows fill a batch of two at the head of the table.
        monkeypatch.setattr("audit.services._CHAIN_BATCH", 2)
        monkeypatch.setattr("audit.services._PENDING_ROWS_SQL", {})
        audit_record(action="test.before")
        for n in range(2):
            recorded_while_locked(f"test.altered.{n}", detail={"count": n})
        with append_only_triggers_suspended():
            AuditPendingEvent.objects.update(detail={"count": 9})
        recorded_while_locked("test.newer")
        audit_chain_pending()
        audit_chain_pending()
        chained = AuditEvent.objects.order_by("id").values_list("action", flat=True)
        assert list(chained) == ["test.before", "test.newer"]
        # The altered ones stay, reported.
        assert AuditPendingEvent.objects.count() == 2
        assert "its content does not match its HMAC" in verify()


@pytest.fixture
def chain_gate(settings, monkeypatch):
    """The production gate (issue 23): each process chains at most once per
    interval; here one long enough that only a test's first event is due."""
    settings.AUDIT_CHAIN_INTERVAL_MS = 60_000
    monkeypatch.setattr("audit.services._last_chain_attempt", -float("inf"))


class TestWritersUnderLoadShareOneChainingRound:
    def test_a_quiet_writer_still_has_its_event_chained_at_once(self, chain_gate):
        event = audit_record(action="test.first")
        assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
        assert not AuditPendingEvent.objects.exists()

    def test_an_event_soon_after_waits_for_the_next_round(self, chain_gate):
        audit_record(action="test.first")
        event = audit_record(action="test.soon_after")
        assert event.pk is None
        assert AuditPendingEvent.objects.get().id == event.pending_id
        # Readers chain before they read: the event is there, and verifies.
        actions = audit_events().order_by("id").values_list("action", flat=True)
        assert list(actions) == ["test.first", "test.soon_after"]
        assert not AuditPendingEvent.objects.exists()
        call_command("verify_audit")

    def test_one_chaining_round_after_commit_takes_a_transactions_events(
        self, chain_gate, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True),
            transaction.atomic(),
        ):
            audit_record(action="test.first")
            audit_record(action="test.second")
        actions = AuditEvent.objects.order_by("id").values_list("action", flat=True)
        assert list(actions) == ["test.first", "test.second"]
        assert not AuditPendingEvent.objects.exists()

    def test_the_writer_whose_turn_comes_chains_every_waiting_event(
        self, chain_gate, settings, monkeypatch
    ):
        audit_record(action="test.first")
        for n in range(3):
            audit_record(action=f"test.waiting.{n}")
        assert AuditPendingEvent.objects.count() == 3
        monkeypatch.setattr("audit.services._last_chain_attempt", -float("inf"))
        audit_record(action="test.due")
        actions = AuditEvent.objects.order_by("id").values_list("action", flat=True)
        assert list(actions) == [
            "test.first",
            "test.waiting.0",
            "test.waiting.1",
            "test.waiting.2",
            "test.due",
        ]
        assert not AuditPendingEvent.objects.exists()
        call_command("verify_audit")
