"""The append-only audit log.

Each row carries an HMAC-SHA256 over its own content and the previous row's
hash, under a key kept outside the database (audit.keys), so removing or
altering a row breaks the chain from that row on, and only the key's holder
can recompute it. Database triggers (see the migrations) refuse UPDATE and
DELETE; signed checkpoints kept outside the database catch removal of the
newest rows. See docs/audit.md.
"""

import hashlib
import hmac
import json
import uuid

from django.conf import settings
from django.db import models

from .chain import HashUnverifiable
from .keys import key_named


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    DENIED = "denied", "Denied"


class AuditEventContent(models.Model):
    """What an event says, shared by the chained log and by events waiting to
    join it (AuditPendingEvent)."""

    at = models.DateTimeField(db_index=True)
    # No database foreign keys: the log must outlive the rows it talks about,
    # and a cascading update would be refused by the append-only trigger.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    organisation_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    # Which key signed the hash (audit.keys), never the key. Empty for events
    # written before keyed hashing: their hash is the plain SHA-256 it was.
    key_id = models.CharField(max_length=16, blank=True)

    class Meta:
        abstract = True

    def content(self) -> dict:
        """Every field the event's HMAC covers but the link and the key id."""
        return {
            "at": self.at.isoformat(),
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "organisation": self.organisation_id,
            "organisation_label": self.organisation_label,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "outcome": self.outcome,
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "detail": self.detail,
        }


class AuditEvent(AuditEventContent):
    # Links only to people and organisations: nothing Wagtail's usage
    # reports need, and indexing it would slow every write.
    wagtail_reference_index_ignore = True
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # The pending row this event was chained from (None for events written
    # before batched chaining). Not part of the HMAC: it only lets the pending
    # row be deleted once chained (migration 0005), and at most once.
    pending_id = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["pending_id"],
                condition=models.Q(pending_id__isnull=False),
                name="audit_event_chained_once",
            )
        ]

    def __str__(self):
        who = self.actor_label or "anonymous"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.action} ({self.outcome})"

    def detail_text(self) -> str:
        return json.dumps(self.detail, sort_keys=True, default=str)

    detail_text.short_description = "Detail"

    def canonical(self) -> str:
        """The text the hash covers: every field but the id and the hash.

        An unkeyed event's text is exactly what it was when written.
        """
        fields = {**self.content(), "previous_hash": self.previous_hash}
        if self.key_id:
            fields["key_id"] = self.key_id
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)

    def compute_hash(self) -> str:
        if not self.key_id:
            return hashlib.sha256(self.canonical().encode()).hexdigest()
        key = key_named(self.key_id)
        if key is None:
            raise HashUnverifiable(
                f"it is signed with audit key {self.key_id}, which is not "
                "configured (DJANGO_AUDIT_HMAC_KEY or DJANGO_AUDIT_HMAC_OLD_KEYS)"
            )
        return key.sign(self.canonical().encode())


class AuditPendingEvent(AuditEventContent):
    """An event recorded but not yet linked into the chain (audit.services).

    Written in the transaction of the change it records, without the chain's
    lock, so it commits or rolls back with that change; the chainer then moves
    it, in order, into AuditEvent. Its own HMAC (``signature``) covers its
    content and its random id, so altering it before it is chained is caught,
    and a copy of it can never be chained twice (AuditEvent.pending_id is
    unique). Triggers refuse UPDATE, and DELETE unless an event chained from
    it exists (migration 0005).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self):
        who = self.actor_label or "anonymous"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.action} (pending)"

    def payload(self) -> bytes:
        fields = {**self.content(), "id": str(self.id), "key_id": self.key_id}
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
        # The prefix keeps a pending row's signature from passing for an
        # event's, a segment's or a checkpoint's.
        return f"audit-pending:{text}".encode()

    def sign(self) -> None:
        self.signature = key_named(self.key_id).sign(self.payload())

    def signature_problem(self) -> str | None:
        """Why this row cannot be chained as it stands, or None."""
        key = key_named(self.key_id)
        if key is None:
            return (
                f"it is signed with audit key {self.key_id}, which is not "
                "configured (DJANGO_AUDIT_HMAC_KEY or DJANGO_AUDIT_HMAC_OLD_KEYS)"
            )
        if not hmac.compare_digest(key.sign(self.payload()), self.signature):
            return (
                "its content does not match its HMAC: it was altered before it "
                "was chained"
            )
        return None

    def chained_event(self, previous_hash: str, key_id: str) -> "AuditEvent":
        """The event this row becomes, linked to ``previous_hash``, unsaved and
        not yet hashed."""
        content = {
            f.attname: getattr(self, f.attname)
            for f in self._meta.concrete_fields
            if f.name not in ("id", "signature")
        }
        content["key_id"] = key_id
        return AuditEvent(**content, previous_hash=previous_hash, pending_id=self.id)


class AuditSegment(models.Model):
    """Events sealed out of the table into a signed file (audit.segments).

    The record stays when the events leave the table, and when the file itself
    is destroyed after its own retention period, so the chain still runs from
    the genesis to the newest event: ``first_previous_hash`` is the link the
    segment's first event carried, ``last_hash`` the hash the next one links
    to. ``signature`` is an HMAC under the audit key over every field but
    ``file_destroyed_at``; triggers refuse deleting a record and changing any
    other field. Its existence is also what lets the sealed events be deleted
    from the table (see the migration).
    """

    sealed_at = models.DateTimeField()
    first_id = models.BigIntegerField(unique=True)
    last_id = models.BigIntegerField(unique=True)
    events = models.PositiveIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    first_previous_hash = models.CharField(max_length=64)
    last_hash = models.CharField(max_length=64)
    # The first event in the segment signed with a key (audit.keys), if any:
    # no unkeyed event may follow it, even once the file is gone.
    first_keyed_id = models.BigIntegerField(null=True, blank=True)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    key_id = models.CharField(max_length=16)
    signature = models.CharField(max_length=64)
    file_destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["first_id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_id__gte=models.F("first_id")),
                name="audit_segment_ids_in_order",
            )
        ]

    def __str__(self):
        return f"audit segment {self.first_id}-{self.last_id} ({self.file_name})"

    def payload(self) -> bytes:
        fields = {
            "sealed_at": self.sealed_at.isoformat(),
            "first_id": self.first_id,
            "last_id": self.last_id,
            "events": self.events,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "first_previous_hash": self.first_previous_hash,
            "last_hash": self.last_hash,
            "first_keyed_id": self.first_keyed_id,
            "file_name": self.file_name,
            "sha256": self.sha256,
            "key_id": self.key_id,
        }
        text = json.dumps(fields, sort_keys=True, separators=(",", ":"))
        # The prefix keeps a segment's signature from passing for an event's.
        return f"audit-segment:{text}".encode()
