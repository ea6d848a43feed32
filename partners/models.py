"""A partner organisation's withdrawal from the partnership: who authorised
it and why, the log of each step the withdrawal ran (so a run that stopped
halfway is finished by running it again), the list of everything the
organisation downloaded, and its single point of contact's confirmation
that all of it was destroyed (docs/features.md, "Partner withdrawal")."""

from datetime import datetime

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


class Step(models.TextChoices):
    """The steps of a withdrawal, in the order they run. Each is safe to run
    again: it acts only on what is still left to do."""

    TAKEN_OUT = "taken_out", "Taken out of every list, invitation and email"
    ACCOUNTS_CLOSED = "accounts_closed", "Accounts suspended"
    CASE_SHARES_ENDED = "case_shares_ended", "Access to cases ended"
    INVITATIONS_REMOVED = (
        "invitations_removed",
        "Invitations to meetings not yet held removed",
    )
    PACKS_DELETED = "packs_deleted", "Meeting packs deleted, with their files"
    FILES_RECALLED = "files_recalled", "Files shared with it recalled"
    DOWNLOADS_LISTED = "downloads_listed", "Downloads listed for the certificate"
    CERTIFICATE_SENT = (
        "certificate_sent",
        "Destruction certificate link sent to its single point of contact",
    )


class Withdrawal(models.Model):
    """One organisation's withdrawal. ``steps`` maps a ``Step`` value to what
    it did: ``{"count": n, "at": iso time}`` (and any other counts)."""

    wagtail_reference_index_ignore = True

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="withdrawal"
    )
    withdrawn_on = models.DateField()
    reason = models.TextField(max_length=2000)
    # A coordinator or an administrator, who records it in their own name.
    authorised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    # The single point of contact when it was recorded: suspending the
    # accounts clears the organisation's own field, and the certificate is
    # still theirs to confirm.
    contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    steps = models.JSONField(default=dict, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Everything the organisation's people downloaded, listed once by the
    # DOWNLOADS_LISTED step so the certificate does not change under them.
    downloads = models.JSONField(default=list, blank=True)
    # Part of the certificate link: a new one makes older links useless, and
    # confirming clears it, so each link works once.
    certificate_nonce = models.CharField(max_length=64, blank=True)
    certificate_sent_at = models.DateTimeField(null=True, blank=True)
    certificate_confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by_name = models.CharField(max_length=200, blank=True)
    confirmed_by_role = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="withdrawal_confirmation_names_someone",
                condition=models.Q(certificate_confirmed_at__isnull=True)
                | ~models.Q(confirmed_by_name=""),
            ),
        ]

    def __str__(self):
        return f"Withdrawal of {self.organisation}"

    def get_absolute_url(self):
        return reverse("partners:report", args=[self.pk])

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    @property
    def certificate_state(self) -> str:
        if self.certificate_confirmed_at:
            return "Confirmed"
        if self.certificate_sent_at:
            return "Waiting for confirmation"
        return "Not sent"

    def step_rows(self) -> list[dict]:
        """Each step with what it did, or None while it has not run."""
        rows = []
        for step in Step:
            done = self.steps.get(step.value)
            if done is not None:
                done = {**done, "at": datetime.fromisoformat(done["at"])}
            rows.append({"step": step, "done": done})
        return rows
