"""The append-only audit log.

Each row carries a SHA-256 hash over its own content and the previous row's
hash, so removing or altering a row breaks the chain from that row on.
Database triggers (see the migrations) refuse UPDATE and DELETE.
"""

import hashlib
import json

from django.conf import settings
from django.db import models


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

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        who = self.actor_label or "anonymous"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.action} ({self.outcome})"

    def canonical(self) -> str:
        """The text the hash covers: every field but the id and the hash."""
        return json.dumps(
            {
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
            },
            sort_keys=True,
            separators=(",", ":"),
            default=str,
        )

    def compute_hash(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()
