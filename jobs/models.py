"""The mail outbox and the record of scheduled runs.

An email is a row written in the same transaction as the change it reports,
so a rolled-back change leaves nothing to send and a committed one cannot lose
its email; the worker delivers each row, retrying with backoff (jobs.mail).
"""

from django.db import models
from django.db.models import Q


class EmailStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    FAILED = "failed", "Not delivered"


class OutgoingEmail(models.Model):
    # What happened, like "referral-12-submitted". One row per event and
    # recipient: queueing the same pair again does nothing, so a repeated task
    # never emails a person twice about one event.
    event = models.CharField(max_length=200)
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    # Emptied once sent: it may hold a one-time link (a password reset).
    body = models.TextField(blank=True)
    # One optional text attachment, like a meeting's iCalendar invitation
    # (RFC 5545): its file name, MIME type and content. Emptied with the body.
    attachment_name = models.CharField(max_length=100, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    attachment = models.TextField(blank=True)
    status = models.CharField(
        max_length=8, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the next attempt is due; while sending, when the attempt began.
    next_attempt_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    # The mail server's last refusal or the kind of network error; never a secret.
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "outgoing email"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        constraints = [
            models.UniqueConstraint(fields=["event", "to"], name="jobs_email_once"),
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False)
                | (~Q(status="sent") & Q(sent_at__isnull=True)),
                name="jobs_email_sent_at_iff_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {self.to} ({self.get_status_display().lower()})"


class ScheduledRun(models.Model):
    """One job's run for one slot of the schedule (jobs.schedule). The unique
    constraint, not a query beforehand, decides between two schedulers."""

    job = models.CharField(max_length=100)
    slot = models.DateTimeField()
    enqueued_at = models.DateTimeField(auto_now_add=True)
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-slot", "job"]
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="jobs_run_once_a_slot")
        ]

    def __str__(self) -> str:
        return f"{self.job} for {self.slot:%Y-%m-%d %H:%M}"
