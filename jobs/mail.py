"""Every email the portal sends goes through here: queued, then delivered by
the task worker with retries.

``email_queue`` writes a row in the caller's transaction and asks for delivery
once it commits: a rolled-back change sends nothing, and a committed one keeps
its email even if the process stops before the task is enqueued (the sweep,
every few minutes, enqueues any row left waiting). Delivery claims the row
with one UPDATE, so two workers never send the same row at once; a refused or
unanswered attempt is retried after each of ``EMAIL_RETRY_DELAYS``, then the
row is marked failed and its task fails, for coordinators to see.

At least once: if the mail server accepts a message and the worker dies before
marking the row sent, the sweep sends it again; the Message-ID header stays
the same, so mail servers and clients can recognise the repeat.
https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4
"""

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import EmailStatus, OutgoingEmail

logger = logging.getLogger(__name__)

# A waiting row this much past its time is enqueued again by the sweep: its
# task was lost (the process stopped between commit and enqueue) or the
# queue is far behind, in which case the extra task finds the row claimed.
LOST_AFTER = timedelta(minutes=15)
# Kept this long after they are sent or given up, then deleted.
KEEP_FINISHED = timedelta(days=90)
# What a sent or given-up row no longer keeps.
_EMPTIED = {"body": "", "attachment": ""}


class EmailUndelivered(Exception):
    """Every attempt at an email failed; raised so its task is marked failed."""


@dataclass(frozen=True)
class Attachment:
    """A small text file sent with an email, like an iCalendar invitation.
    ``content_type`` may carry parameters (``text/calendar; method=REQUEST``)."""

    filename: str
    content_type: str
    content: str


def email_queue(
    *, event: str, to: str, subject: str, body: str,
    attachment: Attachment | None = None,
) -> bool:  # fmt: skip
    """Queue an email to ``to`` about ``event``; returns False if that person
    already has one about it. Call it inside the transaction that makes the
    change: delivery starts when it commits. Rows are delivered one task
    each, so a later change must have its own ``event`` (calendar updates
    carry a SEQUENCE, so a client applies them in order whatever arrives
    first)."""
    email, created = OutgoingEmail.objects.get_or_create(
        event=event[:200],
        to=to.strip(),
        defaults={
            "subject": subject[:255],
            "body": body,
            "attachment_name": attachment.filename if attachment else "",
            "attachment_type": attachment.content_type if attachment else "",
            "attachment": attachment.content if attachment else "",
            "next_attempt_at": timezone.now(),
        },
    )
    if created:
        email_id = email.pk
        transaction.on_commit(lambda: delivery_enqueue(email_id))
    return created


def delivery_enqueue(email_id: int, *, run_after=None) -> None:
    from django_tasks import default_task_backend

    from .tasks import deliver_email

    task = deliver_email
    if run_after is not None:
        if not default_task_backend.supports_defer:
            # The immediate backend (tests) cannot wait: the sweep retries.
            return
        task = task.using(run_after=run_after)
    task.enqueue(email_id)


def email_deliver(email_id: int) -> str:
    """One attempt at one email: "sent", "retrying" or "skipped" (someone
    else has it, or it is not due); raises EmailUndelivered on the last."""
    now = timezone.now()
    claimed = OutgoingEmail.objects.filter(
        pk=email_id, status=EmailStatus.PENDING, next_attempt_at__lte=now
    ).update(
        status=EmailStatus.SENDING, next_attempt_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return "skipped"
    email = OutgoingEmail.objects.get(pk=email_id)
    message = EmailMessage(
        email.subject,
        email.body,
        to=[email.to],
        headers={"Message-ID": _message_id(email)},
    )
    if email.attachment_name:
        message.attach(email.attachment_name, email.attachment, email.attachment_type)
    try:
        # The connection's timeout is EMAIL_TIMEOUT, for connecting and for
        # each reply, so a hung server costs one attempt, not the worker.
        message.send()
    except Exception as error:  # any failure is one failed attempt
        return _attempt_failed(email, error)
    OutgoingEmail.objects.filter(pk=email.pk, status=EmailStatus.SENDING).update(
        status=EmailStatus.SENT, sent_at=timezone.now(), last_error="", **_EMPTIED
    )
    return "sent"


def _attempt_failed(email: OutgoingEmail, error: Exception) -> str:
    reason = _describe(error)
    delays = settings.EMAIL_RETRY_DELAYS
    if email.attempts > len(delays):
        # Emptied like a sent one: a body may hold a secret (a reset link).
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=EmailStatus.FAILED, last_error=reason, **_EMPTIED
        )
        logger.error("Email %s given up after %s attempts", email.pk, email.attempts)
        raise EmailUndelivered(
            f"Email {email.pk} ({email.event}) not delivered after "
            f"{email.attempts} attempts: {reason}"
        ) from error
    retry_at = timezone.now() + timedelta(seconds=delays[email.attempts - 1])
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=EmailStatus.PENDING, next_attempt_at=retry_at, last_error=reason
    )
    logger.warning("Email %s not sent (%s); retrying at %s", email.pk, reason, retry_at)
    delivery_enqueue(email.pk, run_after=retry_at)
    return "retrying"


def _describe(error: Exception) -> str:
    """The error's kind and the server's words; smtplib's messages carry no
    credentials (a refused login says only that it was refused)."""
    return f"{type(error).__name__}: {error}"[:500]


def _message_id(email: OutgoingEmail) -> str:
    digest = hashlib.sha256(f"{email.event}\n{email.to}".encode()).hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
    return f"<{email.pk}.{digest}@{domain or 'localhost'}>"


def outgoing_emails_sweep(*, now=None) -> dict[str, int]:
    """Enqueue rows whose task was lost, put back rows a stopped worker was
    sending, delete finished rows past their keeping time."""
    now = now or timezone.now()
    # A worker stopped mid-send: longer ago than any attempt can last.
    stuck_before = now - timedelta(seconds=settings.EMAIL_TIMEOUT * 3 + 60)
    stuck = OutgoingEmail.objects.filter(
        status=EmailStatus.SENDING, next_attempt_at__lt=stuck_before
    ).update(status=EmailStatus.PENDING, next_attempt_at=now - LOST_AFTER)
    lost_ids = list(
        OutgoingEmail.objects.filter(
            status=EmailStatus.PENDING, next_attempt_at__lte=now - LOST_AFTER
        ).values_list("pk", flat=True)
    )
    # Moved to now, so the next sweep leaves them alone for LOST_AFTER again.
    OutgoingEmail.objects.filter(pk__in=lost_ids).update(next_attempt_at=now)
    for email_id in lost_ids:
        delivery_enqueue(email_id)
    deleted, _ = OutgoingEmail.objects.filter(
        status__in=[EmailStatus.SENT, EmailStatus.FAILED],
        created_at__lt=now - KEEP_FINISHED,
    ).delete()
    return {"resumed": stuck, "enqueued": len(lost_ids), "deleted": deleted}
