"""The audit log is tamper-evident to someone who can write the database.

Each test plays the attacker docs/audit.md describes: full write access to the
database (triggers dropped or bypassed), but neither the audit key nor the
checkpoint store. verify_audit must fail and name the first event affected, or
the checkpoint the table no longer matches.
"""

import hashlib
import json
import re
from dataclasses import replace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, transaction
from django.utils import timezone

from audit.chain import GENESIS_HASH, chain_append
from audit.checkpoints import (
    Checkpoint,
    CheckpointExists,
    CheckpointStorage,
    utc_text,
)
from audit.keys import AuditKey, key_id_of, signing_key
from audit.models import AuditEvent
from audit.services import _CHAIN_LOCK_KEY, audit_record
from portal.s3 import s3_options
from tests.conftest import append_only_triggers_suspended
from tests.documents import s3

s3_server = s3.s3_server

pytestmark = pytest.mark.django_db

FIRST_KEY = "first-audit-key-for-tests-0123456789abcdef"
SECOND_KEY = "second-audit-key-for-tests-0123456789abcdef"


# The attacker's tools ----------------------------------------------------------


def unkeyed(event: AuditEvent) -> str:
    """The hash as main wrote it before keyed hashing: anyone can compute it."""
    event.key_id = ""
    return hashlib.sha256(event.canonical().encode()).hexdigest()


def guessed_key(event: AuditEvent) -> str:
    """An HMAC under the right key id but a key the attacker made up."""
    return AuditKey(event.key_id, b"attacker's guess").sign(event.canonical().encode())


def rechain(from_id: int, sign) -> None:
    """Recompute every hash from event ``from_id`` on, as an attacker would
    after editing or removing an event, so every link matches again."""
    previous = (
        AuditEvent.objects.filter(id__lt=from_id)
        .order_by("-id")
        .values_list("hash", flat=True)
        .first()
    ) or GENESIS_HASH
    for event in AuditEvent.objects.filter(id__gte=from_id).order_by("id"):
        event.previous_hash = previous
        event.hash = previous = sign(event)
        AuditEvent.objects.filter(pk=event.pk).update(
            previous_hash=event.previous_hash, hash=event.hash, key_id=event.key_id
        )


def verify() -> str:
    """verify_audit's complaint; fails the test if it has none."""
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    return str(failure.value)


def named(event: AuditEvent) -> str:
    """How verify_audit names the first affected event: its id and time."""
    return re.escape(f"event {event.id}, written {utc_text(event.at)}")


def checkpoint_lines(settings) -> list[str]:
    return settings.AUDIT_CHECKPOINT_FILE.read_text().splitlines()


@pytest.fixture
def tamper():
    """Get round the triggers, as someone with direct database access could."""
    with append_only_triggers_suspended():
        yield


@pytest.fixture
def events():
    return [audit_record(action=f"test.{n}") for n in range(6)]


@pytest.fixture
def checkpointed(events):
    """Six events and a checkpoint of them, as the daily run leaves it."""
    call_command("audit_checkpoint")
    return events


def legacy_event(action: str) -> AuditEvent:
    """An event as written before keyed hashing: no key id, a plain SHA-256."""

    def stamp(event):
        event.at = timezone.now()

    return chain_append(
        AuditEvent(action=action), lock_key=_CHAIN_LOCK_KEY, before_hash=stamp
    )


# A clean log -------------------------------------------------------------------


class TestCleanLog:
    def test_intact_chain_verifies(self, events, capsys):
        call_command("verify_audit")
        captured = capsys.readouterr()
        assert "intact (6 events)" in captured.out
        # Without a checkpoint the newest events could go unnoticed: say so.
        assert "No checkpoint found" in captured.err

    def test_each_event_is_signed_with_the_key_not_a_plain_hash(self, events):
        event = AuditEvent.objects.get(pk=events[0].pk)
        assert event.key_id == signing_key().id
        assert event.hash != unkeyed(AuditEvent.objects.get(pk=events[0].pk))

    def test_matches_its_checkpoints(self, checkpointed, capsys, settings):
        audit_record(action="after.checkpoint")
        call_command("audit_checkpoint")
        capsys.readouterr()
        call_command("verify_audit")
        out = capsys.readouterr().out
        assert "intact (7 events)" in out
        assert "matches 2 signed checkpoints" in out
        first, second = (json.loads(line) for line in checkpoint_lines(settings))
        assert (first["events"], first["last_id"]) == (6, checkpointed[-1].pk)
        assert second["events"] == 7

    def test_checkpoint_of_an_empty_log(self, settings):
        call_command("audit_checkpoint")
        audit_record(action="first.ever")
        call_command("verify_audit")

    def test_key_rotation_keeps_older_events_verifiable(self, settings, capsys):
        settings.AUDIT_HMAC_KEY = FIRST_KEY
        settings.AUDIT_HMAC_OLD_KEYS = []
        before = [audit_record(action=f"key1.{n}") for n in range(3)]
        call_command("audit_checkpoint")
        settings.AUDIT_HMAC_KEY = SECOND_KEY
        settings.AUDIT_HMAC_OLD_KEYS = [FIRST_KEY]
        after = [audit_record(action=f"key2.{n}") for n in range(3)]
        call_command("audit_checkpoint")
        capsys.readouterr()

        call_command("verify_audit")
        assert "intact (6 events)" in capsys.readouterr().out
        ids = set(AuditEvent.objects.values_list("key_id", flat=True))
        assert ids == {key_id_of(FIRST_KEY.encode()), key_id_of(SECOND_KEY.encode())}
        assert before[0].key_id != after[0].key_id

        # Dropping the old key too soon is caught, not silently accepted.
        settings.AUDIT_HMAC_OLD_KEYS = []
        message = verify()
        assert re.search(f"{named(before[0])}: it is signed with audit key", message)

    def test_key_id_is_not_the_key(self, settings):
        settings.AUDIT_HMAC_KEY = FIRST_KEY
        event = audit_record(action="x")
        assert len(event.key_id) == 16
        assert event.key_id not in FIRST_KEY
        assert FIRST_KEY not in json.dumps(
            AuditEvent.objects.values().get(), default=str
        )

    def test_events_written_before_keyed_hashing_still_verify(self, capsys):
        old = [legacy_event(f"old.{n}") for n in range(3)]
        assert {e.key_id for e in old} == {""}
        [audit_record(action=f"new.{n}") for n in range(2)]
        call_command("audit_checkpoint")
        capsys.readouterr()
        call_command("verify_audit")
        out = capsys.readouterr().out
        assert "intact (5 events)" in out
        assert "3 events predate keyed hashing" in out


# Tampering ---------------------------------------------------------------------


class TestTheDatabaseRefusesChanges:
    def test_updates(self, events):
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=events[1].pk).update(action="edited")

    def test_deletes(self, events):
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=events[1].pk).delete()


class TestTamperingIsCaught:
    def test_newest_events_removed(self, checkpointed, tamper):
        AuditEvent.objects.filter(pk__gte=checkpointed[4].pk).delete()
        message = verify()
        assert "The audit log no longer matches the checkpoint taken" in message
        assert f"records 6 events up to event {checkpointed[5].pk}" in message
        assert re.search(
            f"ends at event {checkpointed[3].pk}, written "
            f"{re.escape(utc_text(checkpointed[3].at))}, after 4 events",
            message,
        )
        assert "The newest events were removed." in message

    def test_every_event_removed(self, checkpointed, tamper):
        AuditEvent.objects.all().delete()
        assert "but the log is empty" in verify()

    def test_newest_events_removed_then_new_ones_written(self, checkpointed, tamper):
        AuditEvent.objects.filter(pk__gte=checkpointed[4].pk).delete()
        later = audit_record(action="written.after")
        message = verify()
        assert re.search(named(later), message)
        assert f"records event {checkpointed[5].pk} as the newest then" in message

    def test_middle_event_removed(self, checkpointed, tamper):
        AuditEvent.objects.filter(pk=checkpointed[2].pk).delete()
        message = verify()
        assert re.search(f"{named(checkpointed[3])}: its link", message)

    @pytest.mark.parametrize("sign", [unkeyed, guessed_key])
    def test_middle_event_removed_and_later_hashes_recomputed(
        self, checkpointed, tamper, sign
    ):
        AuditEvent.objects.filter(pk=checkpointed[2].pk).delete()
        rechain(checkpointed[3].pk, sign)
        assert re.search(f"{named(checkpointed[3])}: its", verify())

    @pytest.mark.parametrize("sign", [unkeyed, guessed_key])
    def test_event_edited_and_every_later_hash_recomputed(
        self, checkpointed, tamper, sign
    ):
        AuditEvent.objects.filter(pk=checkpointed[2].pk).update(outcome="failure")
        rechain(checkpointed[2].pk, sign)
        message = verify()
        assert re.search(f"{named(checkpointed[2])}: its", message)
        assert "without the audit key" in message

    @pytest.mark.parametrize("sign", [unkeyed, guessed_key])
    def test_caught_before_any_checkpoint_too(self, events, tamper, sign):
        AuditEvent.objects.filter(pk=events[4].pk).update(action="edited")
        rechain(events[4].pk, sign)
        assert re.search(f"{named(events[4])}: its", verify())

    def test_triggers_dropped_and_event_edited(self, checkpointed, tamper):
        AuditEvent.objects.filter(pk=checkpointed[1].pk).update(ip_address="6.6.6.6")
        message = verify()
        assert re.search(
            f"{named(checkpointed[1])}: its content does not match", message
        )

    def test_whole_log_rewritten_in_the_keyless_form(self, checkpointed, tamper):
        rechain(checkpointed[0].pk, unkeyed)
        message = verify()
        assert re.search(f"{named(checkpointed[0])}: its hash is unkeyed", message)
        assert f"keyed hashing from event {checkpointed[0].pk}" in message

    def test_keyless_event_appended(self, events, tamper):
        forged = AuditEvent(
            action="forged", at=timezone.now(), previous_hash=events[-1].hash
        )
        forged.hash = unkeyed(forged)
        forged.save(force_insert=True)
        message = verify()
        assert re.search(f"{named(forged)}: its hash is unkeyed", message)

    def test_altered_checkpoint(self, checkpointed, settings):
        line = json.loads(checkpoint_lines(settings)[0])
        line["events"] = 5
        settings.AUDIT_CHECKPOINT_FILE.write_text(json.dumps(line) + "\n")
        message = verify()
        assert f"{settings.AUDIT_CHECKPOINT_FILE} line 1" in message
        assert "its signature does not match" in message

    def test_checkpoint_signed_without_the_key(self, checkpointed, settings, tamper):
        """An attacker truncates the log and writes a checkpoint to match."""
        AuditEvent.objects.filter(pk__gte=checkpointed[4].pk).delete()
        forged = Checkpoint(
            taken_at=timezone.now(),
            events=4,
            last_id=checkpointed[3].pk,
            last_hash=checkpointed[3].hash,
            first_keyed_id=checkpointed[0].pk,
            key_id=signing_key().id,
        )
        forged = replace(forged, signature=guessed_signature(forged))
        settings.AUDIT_CHECKPOINT_FILE.write_text(forged.to_json() + "\n")
        assert "line 1: its signature does not match" in verify()

    def test_damaged_checkpoint_line(self, checkpointed, settings):
        with settings.AUDIT_CHECKPOINT_FILE.open("a") as file:
            file.write("{not json\n")
        assert "line 2: it is not a checkpoint" in verify()

    def test_no_checkpoint_vouches_for_a_tampered_log(
        self, checkpointed, settings, tamper
    ):
        AuditEvent.objects.filter(pk=checkpointed[2].pk).update(action="edited")
        before = checkpoint_lines(settings)
        with pytest.raises(CommandError, match="No checkpoint written"):
            call_command("audit_checkpoint")
        assert checkpoint_lines(settings) == before


def guessed_signature(checkpoint: Checkpoint) -> str:
    return AuditKey(checkpoint.key_id, b"attacker's guess").sign(checkpoint._payload())


# Checkpoints in the private bucket --------------------------------------------


@pytest.fixture
def checkpoint_bucket(s3_server, settings):
    """The production layout: checkpoints under their own prefix in the
    private bucket, with the production options (on the local S3)."""
    client = s3.s3_client(s3_server)
    bucket = "audit-test-bucket"
    if bucket not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.REGION}
        )
    prefix = f"audit-checkpoints-{timezone.now():%H%M%S%f}"
    settings.STORAGES = {
        **settings.STORAGES,
        "audit_checkpoints": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                **s3_options(
                    bucket=bucket,
                    region=s3.REGION,
                    endpoint_url=s3_server,
                    access_key=s3.ACCESS_KEY,
                    secret_key=s3.SECRET_KEY,
                ),
                "location": prefix,
            },
        },
    }
    settings.AUDIT_CHECKPOINT_STORAGE = "audit_checkpoints"
    yield client, bucket, prefix
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    for entry in listed:
        client.delete_object(Bucket=bucket, Key=entry["Key"])


class TestCheckpointsInTheBucket:
    def test_each_checkpoint_is_a_new_object(self, checkpoint_bucket, events):
        client, bucket, prefix = checkpoint_bucket
        call_command("audit_checkpoint")
        audit_record(action="later")
        call_command("audit_checkpoint")
        keys = [
            entry["Key"]
            for entry in client.list_objects_v2(Bucket=bucket, Prefix=prefix)[
                "Contents"
            ]
        ]
        assert len(keys) == 2
        body = client.get_object(Bucket=bucket, Key=sorted(keys)[0])["Body"].read()
        assert json.loads(body)["events"] == 6
        head = client.head_object(Bucket=bucket, Key=keys[0])
        assert head["ServerSideEncryption"] == "AES256"

    def test_a_checkpoint_is_never_replaced(self, checkpoint_bucket, events):
        from django.core.files.storage import storages

        store = CheckpointStorage(storages["audit_checkpoints"], label="bucket")
        checkpoint = Checkpoint.signed(
            taken_at=timezone.now(),
            events=6,
            last_id=events[-1].pk,
            last_hash=events[-1].hash,
            first_keyed_id=events[0].pk,
        )
        store.write(checkpoint)
        with pytest.raises(CheckpointExists, match="already exists"):
            store.write(checkpoint)

    def test_truncation_caught_from_the_bucket_when_the_file_is_lost(
        self, checkpoint_bucket, checkpointed, settings, tamper
    ):
        settings.AUDIT_CHECKPOINT_FILE.unlink()
        AuditEvent.objects.filter(pk__gte=checkpointed[4].pk).delete()
        message = verify()
        assert "storage audit_checkpoints/" in message
        assert "The newest events were removed." in message
