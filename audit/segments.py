"""Sealing old audit events into signed segment files (docs/audit.md).

Events older than the audit retention period leave the table, oldest first,
into a segment: a file of JSON lines, one event each with every field its HMAC
covers, in private storage. A segment record (audit.models.AuditSegment) keeps
the chain's two ends (the first event's link, the last event's hash), the
count, the file's SHA-256 and an HMAC of all that under the audit key; an
``audit.segment_sealed`` event carrying the same values then joins the live
chain. Only then are the sealed events deleted, which the database allows for
ids a segment record covers and nothing else (migration 0004).

Destroying a segment's file after its own retention period is a separate,
explicit step that keeps the record, so the chain still verifies end to end.
"""

import hashlib
import hmac
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.utils import timezone

from .audit_actions import AuditAction
from .checkpoints import utc_text
from .keys import key_named, signing_key
from .models import AuditEvent, AuditSegment
from .signals import audit_retention_asked

SEALED_ACTION = AuditAction.SEGMENT_SEALED
DESTROYED_ACTION = AuditAction.SEGMENT_DESTROYED
# Events per segment file: a year of a busy portal is a few hundred thousand.
SEGMENT_MAX_EVENTS = 100_000
_BATCH = 2000


def segment_storage() -> Storage:
    return storages[settings.AUDIT_SEGMENT_STORAGE]


@dataclass(frozen=True)
class AuditRetention:
    """How many years audit events stay in the table, and who says so: the
    ISA version that gives it ("CSP-ISA-CMARAC v1.0"), or None for the
    setting."""

    years: int
    agreement_version: str | None = None

    @property
    def source(self) -> str:
        return self.agreement_version or "DJANGO_AUDIT_RETENTION_YEARS"


def audit_retention_in_force(on: date | None = None) -> AuditRetention:
    """The audit retention period on ``on`` (today by default).

    The ISA version in force gives it when it carries one (the agreements app
    answers ``audit_retention_asked``: audit may not import agreements);
    otherwise settings.AUDIT_RETENTION_YEARS. Should two answers ever come,
    the longer period wins: keeping events longer is the safe mistake.
    """
    on = on or timezone.localdate()
    answers = [
        answer
        for _receiver, answer in audit_retention_asked.send(sender=AuditEvent, on=on)
        if isinstance(answer, AuditRetention)
    ]
    if answers:
        return max(answers, key=lambda answer: answer.years)
    return AuditRetention(years=settings.AUDIT_RETENTION_YEARS)


def retention_cutoff(
    now: datetime | None = None, retention: AuditRetention | None = None
) -> datetime:
    """Events written before this are due to be sealed."""
    now = now or timezone.now()
    retention = retention or audit_retention_in_force(timezone.localdate(now))
    return _years_before(now, retention.years)


def _years_before(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February, in a year without one
        return moment.replace(year=moment.year - years, day=28)


# Writing ----------------------------------------------------------------------


def event_line(event: AuditEvent) -> str:
    """One event as a line of its segment: what its HMAC covers, its id and
    hash. ``event_from_line`` gives back an event whose hash recomputes."""
    fields = json.loads(event.canonical())
    fields.update(id=event.id, hash=event.hash, key_id=event.key_id)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def event_from_line(line: str) -> AuditEvent:
    data = json.loads(line)
    return AuditEvent(
        id=int(data["id"]),
        at=datetime.fromisoformat(data["at"]),
        actor_id=data["actor"],
        actor_label=data["actor_label"],
        organisation_id=data["organisation"],
        organisation_label=data["organisation_label"],
        action=data["action"],
        object_type=data["object_type"],
        object_id=data["object_id"],
        outcome=data["outcome"],
        ip_address=data["ip_address"],
        user_agent=data["user_agent"],
        detail=data["detail"],
        previous_hash=data["previous_hash"],
        hash=data["hash"],
        key_id=data.get("key_id", ""),
    )


def segment_sign(segment: AuditSegment) -> None:
    key = signing_key()
    segment.key_id = key.id
    segment.signature = key.sign(segment.payload())


def segment_signature_problem(segment: AuditSegment) -> str | None:
    key = key_named(segment.key_id)
    if key is None:
        return (
            f"it is signed with audit key {segment.key_id}, which is not "
            "configured (DJANGO_AUDIT_HMAC_KEY or DJANGO_AUDIT_HMAC_OLD_KEYS)"
        )
    if not hmac.compare_digest(key.sign(segment.payload()), segment.signature):
        return "its record does not match its signature: it was altered"
    return None


def audit_seal(*, now: datetime | None = None) -> list[AuditSegment]:
    """Seal every event older than the retention period in force (the ISA's,
    or the setting's), in segments of at most SEGMENT_MAX_EVENTS; returns the
    segments written."""
    now = now or timezone.now()
    retention = audit_retention_in_force(timezone.localdate(now))
    cutoff = retention_cutoff(now, retention)
    # Each seal writes an event of its own: never seal those in the same run.
    newest = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    sealed = []
    while newest is not None:
        segment = _seal_one(cutoff, newest, retention)
        if segment is None:
            break
        sealed.append(segment)
    return sealed


def _seal_one(
    cutoff: datetime, up_to: int, retention: AuditRetention
) -> AuditSegment | None:
    from .services import audit_chain_lock, audit_record

    storage = segment_storage()
    with transaction.atomic():
        # No event is appended meanwhile, so the segment and the seal event
        # that follows it are one unbroken stretch of the chain.
        audit_chain_lock()
        oldest = AuditEvent.objects.order_by("id").first()
        if oldest is None or oldest.at >= cutoff or oldest.id > up_to:
            return None
        digest = hashlib.sha256()
        first = last = None
        count = 0
        first_keyed_id = None
        with tempfile.TemporaryFile() as spool:
            for event in _events_due(cutoff, up_to):
                line = (event_line(event) + "\n").encode()
                spool.write(line)
                digest.update(line)
                first = first or event
                last = event
                count += 1
                if event.key_id and first_keyed_id is None:
                    first_keyed_id = event.id
            spool.seek(0)
            name = (
                f"{first.at:%Y%m%d}-{last.at:%Y%m%d}/"
                f"audit-{first.id:012d}-{last.id:012d}.jsonl"
            )
            # Never replaces a file: a name taken (a run that failed after
            # writing) gets a new one, which the record then names.
            stored_name = storage.save(name, File(spool, name=name))
        segment = AuditSegment(
            sealed_at=timezone.now(),
            first_id=first.id,
            last_id=last.id,
            events=count,
            first_at=first.at,
            last_at=last.at,
            first_previous_hash=first.previous_hash,
            last_hash=last.hash,
            first_keyed_id=first_keyed_id,
            file_name=stored_name,
            sha256=digest.hexdigest(),
        )
        segment_sign(segment)
        segment.full_clean()
        segment.save(force_insert=True)
        audit_record(
            action=SEALED_ACTION,
            obj=segment,
            detail={
                "first_id": segment.first_id,
                "last_id": segment.last_id,
                "events": segment.events,
                "sha256": segment.sha256,
                "last_hash": segment.last_hash,
                # Which period sealed them, and whose: the ISA version that
                # gave it, or "" for the setting.
                "retention_years": retention.years,
                "agreement_version": retention.agreement_version or "",
            },
        )
        # Allowed by the trigger only because the record now covers them.
        deleted, _ = AuditEvent.objects.filter(
            id__gte=segment.first_id, id__lte=segment.last_id
        ).delete()
        if deleted != count:
            raise RuntimeError(
                f"Sealing {segment}: {count} events written but {deleted} deleted"
            )
    return segment


def _events_due(cutoff: datetime, up_to: int) -> Iterator[AuditEvent]:
    """The oldest events, in id order, up to the first one not yet due."""
    last_id, taken = 0, 0
    while taken < SEGMENT_MAX_EVENTS:
        size = min(_BATCH, SEGMENT_MAX_EVENTS - taken)
        batch = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:size])
        if not batch:
            return
        for event in batch:
            if event.at >= cutoff or event.id > up_to:
                return
            yield event
        taken += len(batch)
        last_id = batch[-1].id


def audit_segments_destroy(*, older_than_years: int, now=None) -> list[AuditSegment]:
    """Delete the files of segments whose newest event is older than
    ``older_than_years``; their records stay, so the chain still verifies."""
    from .services import audit_record

    now = now or timezone.now()
    cutoff = _years_before(now, older_than_years)
    storage = segment_storage()
    destroyed = []
    for segment in AuditSegment.objects.filter(
        file_destroyed_at__isnull=True, last_at__lt=cutoff
    ):
        with transaction.atomic():
            # Recorded first: a failure after the file is gone leaves a record
            # that says so, never a missing file nobody accounted for.
            AuditSegment.objects.filter(pk=segment.pk).update(file_destroyed_at=now)
            audit_record(
                action=DESTROYED_ACTION,
                obj=segment,
                detail={
                    "first_id": segment.first_id,
                    "last_id": segment.last_id,
                    "events": segment.events,
                    "sha256": segment.sha256,
                },
            )
            storage.delete(segment.file_name)
        segment.file_destroyed_at = now
        destroyed.append(segment)
    return destroyed


# Checking ---------------------------------------------------------------------


def segment_label(segment: AuditSegment) -> str:
    return (
        f"The sealed audit segment {segment.file_name} (events "
        f"{segment.first_id} to {segment.last_id})"
    )


class SegmentUnreadable(Exception):
    """A sealed segment's file is missing, altered or not what its record says."""


def segment_events(segment: AuditSegment) -> list[AuditEvent]:
    """The events in a sealed segment's file, checked against its record.

    Raises SegmentUnreadable, naming the segment, when the file is missing,
    its SHA-256 differs, or it does not hold the ids and count recorded.
    """
    where = segment_label(segment)
    storage = segment_storage()
    try:
        with storage.open(segment.file_name, "rb") as file:
            content = file.read()
    except FileNotFoundError as exc:
        raise SegmentUnreadable(
            f"{where} is missing from storage, yet its record says it was not "
            "destroyed."
        ) from exc
    except Exception as exc:  # a store that cannot be read is a finding too
        raise SegmentUnreadable(f"{where} could not be read: {exc}.") from exc
    if hashlib.sha256(content).hexdigest() != segment.sha256:
        raise SegmentUnreadable(
            f"{where} was altered: its SHA-256 no longer matches the one sealed "
            f"{utc_text(segment.sealed_at)}."
        )
    try:
        events = [event_from_line(line) for line in content.decode().splitlines()]
    except (ValueError, KeyError, TypeError) as exc:
        raise SegmentUnreadable(f"{where} cannot be read: {exc}.") from exc
    ids = [event.id for event in events]
    if (
        len(events) != segment.events
        or not events
        or ids[0] != segment.first_id
        or ids[-1] != segment.last_id
        or ids != sorted(set(ids))
    ):
        raise SegmentUnreadable(
            f"{where} does not hold the {segment.events} events its record names."
        )
    return events
