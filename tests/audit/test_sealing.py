"""Audit retention: old events are sealed into signed segment files and leave
the table, and the chain still verifies end to end (docs/audit.md, "Sealed
segments"). Run on SQLite and on PostgreSQL (docs/testing.md)."""

import json
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction
from django.utils import timezone

from audit.models import AuditEvent, AuditSegment
from audit.segments import (
    AuditRetention,
    audit_retention_in_force,
    segment_storage,
)
from audit.services import audit_record
from tests.conftest import append_only_triggers_suspended
from tests.factories.agreements import retention_version

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def segment_store(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_segments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "segments"},
        },
    }
    return tmp_path / "segments"


@pytest.fixture
def everything_due(settings):
    """A retention period of nothing: every event written so far is due."""
    settings.AUDIT_RETENTION_YEARS = 0


@pytest.fixture
def events():
    return [audit_record(action=f"test.{n}", detail={"count": n}) for n in range(6)]


def verify() -> str:
    """verify_audit's complaint; fails the test if it has none."""
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    return str(failure.value)


def verified(capsys) -> str:
    call_command("verify_audit")
    return capsys.readouterr().out


def seal() -> AuditSegment:
    call_command("audit_seal")
    return AuditSegment.objects.latest("first_id")


class TestSealing:
    def test_old_events_leave_the_table_and_the_chain_still_verifies(
        self, events, everything_due, capsys
    ):
        call_command("audit_checkpoint")
        segment = seal()

        assert (segment.first_id, segment.last_id) == (events[0].id, events[-1].id)
        assert segment.events == 6
        assert segment.last_hash == events[-1].hash
        # Only the seal's own event is left, carrying the segment's hash.
        (left,) = AuditEvent.objects.all()
        assert left.action == "audit.segment_sealed"
        assert left.previous_hash == events[-1].hash
        assert left.detail["sha256"] == segment.sha256
        # The checkpoint taken before sealing still matches.
        out = verified(capsys)
        assert "The audit chain is intact (7 events)" in out
        assert "6 of them are sealed in 1 segment." in out
        assert "matches 1 signed checkpoint" in out

    def test_the_file_holds_every_event_as_written(self, events, everything_due):
        segment = seal()
        with segment_storage().open(segment.file_name) as file:
            lines = file.read().decode().splitlines()
        assert [json.loads(line)["id"] for line in lines] == [e.id for e in events]
        assert [json.loads(line)["hash"] for line in lines] == [e.hash for e in events]

    def test_the_chain_continues_across_segments(self, events, everything_due, capsys):
        seal()
        later = [audit_record(action=f"test.later.{n}") for n in range(3)]
        assert later[0].previous_hash == AuditEvent.objects.order_by("id")[0].hash
        call_command("audit_checkpoint")
        second = seal()
        # The second segment starts with the first seal's event.
        assert second.first_previous_hash == AuditSegment.objects.first().last_hash
        assert AuditSegment.objects.count() == 2
        audit_record(action="test.after")
        call_command("audit_checkpoint")
        assert "The audit chain is intact (12 events)" in verified(capsys)

    def test_recent_events_stay(self, events, settings):
        settings.AUDIT_RETENTION_YEARS = 6
        call_command("audit_seal")
        assert not AuditSegment.objects.exists()
        assert AuditEvent.objects.count() == 6

    def test_a_log_that_fails_its_check_is_not_sealed(self, events, everything_due):
        with append_only_triggers_suspended():
            AuditEvent.objects.filter(pk=events[2].pk).update(action="test.edited")
        with pytest.raises(CommandError, match="Nothing sealed"):
            call_command("audit_seal")
        assert AuditEvent.objects.count() == 6


class TestTampering:
    def test_an_altered_segment_file_fails_naming_it(
        self, events, everything_due, segment_store
    ):
        segment = seal()
        path = segment_store / segment.file_name
        path.write_text(path.read_text().replace('"test.3"', '"test.x"'))
        assert re.search(
            rf"{re.escape(segment.file_name)} \(events {events[0].id} to "
            rf"{events[-1].id}\) was altered",
            verify(),
        )

    def test_a_missing_segment_file_fails_naming_it(
        self, events, everything_due, segment_store
    ):
        segment = seal()
        (segment_store / segment.file_name).unlink()
        problem = verify()
        assert segment.file_name in problem
        assert "is missing from storage" in problem

    def test_an_altered_segment_record_fails(self, events, everything_due):
        segment = seal()
        with append_only_triggers_suspended():
            AuditSegment.objects.filter(pk=segment.pk).update(events=5)
        assert "its record does not match its signature" in verify()

    def test_a_rewritten_file_with_a_matching_record_fails_without_the_key(
        self, events, everything_due, segment_store
    ):
        # The attacker edits an event in the file and updates the record's
        # SHA-256 to match, but cannot re-sign the record.
        import hashlib

        segment = seal()
        path = segment_store / segment.file_name
        path.write_text(path.read_text().replace('"test.3"', '"test.x"'))
        with append_only_triggers_suspended():
            AuditSegment.objects.filter(pk=segment.pk).update(
                sha256=hashlib.sha256(path.read_bytes()).hexdigest()
            )
        assert "its record does not match its signature" in verify()

    def test_a_sealed_event_put_back_into_the_table_fails(self, events, everything_due):
        seal()
        events[2].save(force_insert=True)  # inserting is allowed: append-only
        problem = verify()
        assert f"Event {events[2].id}" in problem
        assert "although a sealed segment covers it" in problem


class TestTheTableStaysAppendOnly:
    def test_a_live_event_cannot_be_deleted(self, events):
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=events[0].pk).delete()
        assert AuditEvent.objects.count() == 6

    def test_a_live_event_cannot_be_deleted_after_a_seal_either(
        self, events, everything_due
    ):
        seal()
        newer = audit_record(action="test.newer")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=newer.pk).delete()
        assert AuditEvent.objects.filter(pk=newer.pk).exists()

    def test_a_segment_record_cannot_be_deleted_or_changed(
        self, events, everything_due
    ):
        segment = seal()
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditSegment.objects.filter(pk=segment.pk).delete()
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditSegment.objects.filter(pk=segment.pk).update(sha256="0" * 64)
        assert AuditSegment.objects.get(pk=segment.pk).sha256 == segment.sha256


class TestDestroyingSegmentFiles:
    def test_files_past_their_period_go_and_the_chain_still_verifies(
        self, events, everything_due, segment_store, capsys
    ):
        call_command("audit_checkpoint")
        segment = seal()
        audit_record(action="test.after")
        call_command("audit_seal", "--destroy-older-than", "0")

        assert not (segment_store / segment.file_name).exists()
        kept = AuditSegment.objects.get(pk=segment.pk)
        assert kept.file_destroyed_at is not None
        assert kept.sha256 == segment.sha256
        assert AuditEvent.objects.filter(action="audit.segment_destroyed").exists()
        call_command("audit_checkpoint")
        out = verified(capsys)
        assert "The audit chain is intact (9 events)" in out
        assert "1 of whose files were destroyed" in out

    def test_a_destroyed_mark_cannot_be_taken_back(self, events, everything_due):
        segment = seal()
        call_command("audit_seal", "--destroy-older-than", "0")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditSegment.objects.filter(pk=segment.pk).update(file_destroyed_at=None)

    def test_files_within_their_period_stay(
        self, events, everything_due, segment_store
    ):
        segment = seal()
        call_command("audit_seal", "--destroy-older-than", "1")
        assert (segment_store / segment.file_name).exists()
        assert AuditSegment.objects.get(pk=segment.pk).file_destroyed_at is None

    def test_destroying_sooner_than_the_retention_period_is_refused(
        self, events, settings
    ):
        settings.AUDIT_RETENTION_YEARS = 6
        with pytest.raises(CommandError, match="shorter than the audit retention"):
            call_command("audit_seal", "--destroy-older-than", "2")

    def test_the_seal_event_binds_the_record(self, events, everything_due):
        segment = seal()
        seal_event = AuditEvent.objects.get(action="audit.segment_sealed")
        assert seal_event.object_id == str(segment.pk)
        assert timezone.now() - seal_event.at < timedelta(minutes=1)


class TestThePeriodComesFromTheISA:
    """Issue 20: the audit period of the ISA version in force drives sealing;
    DJANGO_AUDIT_RETENTION_YEARS applies only when no version gives one. Audit
    asks through a signal, which the agreements app answers (audit may not
    import agreements)."""

    @pytest.fixture
    def aged(self, settings):
        """Events written five years and two years ago, by a turned-back clock."""
        settings.AUDIT_RETENTION_YEARS = 6
        now = timezone.now()
        written = []
        for years in (5, 2):
            with mock.patch("django.utils.timezone.now", return_value=_ago(now, years)):
                written.append(audit_record(action="test.old", detail={"count": years}))
        return written

    def sealed_ids(self) -> list[int]:
        return [
            event_id
            for segment in AuditSegment.objects.order_by("first_id")
            for event_id in range(segment.first_id, segment.last_id + 1)
        ]

    def test_no_version_the_setting_applies(self, aged, settings, capsys):
        assert audit_retention_in_force() == AuditRetention(years=6)
        call_command("audit_seal")
        assert not AuditSegment.objects.exists()
        assert "6 years, from DJANGO_AUDIT_RETENTION_YEARS" in capsys.readouterr().out
        settings.AUDIT_RETENTION_YEARS = 4
        call_command("audit_seal")
        assert self.sealed_ids() == [aged[0].id]

    def test_a_version_giving_six_years_seals_nothing_younger(self, aged, settings):
        settings.AUDIT_RETENTION_YEARS = 1  # the ISA's period wins over it
        retention_version(audit_years=6)
        assert audit_retention_in_force().years == 6
        call_command("audit_seal")
        assert not AuditSegment.objects.exists()
        assert AuditEvent.objects.filter(pk__in=[e.pk for e in aged]).count() == 2

    def test_a_version_giving_three_years_seals_the_older_events(self, aged, capsys):
        version = retention_version(audit_years=3)
        call_command("audit_seal")
        assert self.sealed_ids() == [aged[0].id]
        assert AuditEvent.objects.filter(pk=aged[1].pk).exists()
        assert f"3 years, from ISA-TEST v{version.number}" in capsys.readouterr().out
        seal_event = AuditEvent.objects.get(action="audit.segment_sealed")
        assert seal_event.detail["retention_years"] == 3
        assert seal_event.detail["agreement_version"] == f"ISA-TEST v{version.number}"
        call_command("verify_audit")

    def test_the_version_in_force_on_the_day_decides(self, aged):
        # Six years now; a version cutting it to three comes into force in
        # ten days. Sealing today keeps both events; in ten days it does not.
        today = timezone.localdate()
        retention_version(audit_years=6)
        retention_version(audit_years=3, effective=today + timedelta(days=10))
        call_command("audit_seal")
        assert not AuditSegment.objects.exists()
        later = timezone.now() + timedelta(days=10)
        with mock.patch("django.utils.timezone.now", return_value=later):
            assert audit_retention_in_force().years == 3
            call_command("audit_seal")
        assert self.sealed_ids() == [aged[0].id]

    def test_destroying_files_is_held_to_the_isa_period(self, aged, settings):
        settings.AUDIT_RETENTION_YEARS = 1
        retention_version(audit_years=8)
        with pytest.raises(CommandError, match=r"\(8 years, from ISA-TEST"):
            call_command("audit_seal", "--destroy-older-than", "7")


def _ago(moment, years):
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - years, day=28)
