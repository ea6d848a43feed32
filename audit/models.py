"""The append-only audit log.

Each row carries an HMAC-SHA256 over its own content and the previous row's
hash, under a key kept outside the database (audit.keys), so removing or
altering a row breaks the chain from that row on, and only the key's holder
can recompute it. Database triggers (see the migrations) refuse UPDATE and
DELETE; signed checkpoints kept outside the database catch removal of the
newest rows. See docs/audit.md.
"""

import hashlib
import json

from django.conf import settings
from django.db import models

from .chain import HashUnverifiable
from .keys import key_named


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    DENIED = "denied", "Denied"


class AuditEvent(models.Model):
    # Links only to people and organisations: nothing Wagtail's usage
    # reports need, and indexing it would slow every write.
    wagtail_reference_index_ignore = True
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
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Which key signed the hash (audit.keys), never the key. Empty for events
    # written before keyed hashing: their hash is the plain SHA-256 it was.
    key_id = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

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
        fields = {
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
            "previous_hash": self.previous_hash,
        }
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
