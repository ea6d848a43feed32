"""Every email the portal sends goes through here: queued, then delivered by
the task worker with retries.

``email_queue`` (one) and ``emails_queue`` (many, in a few queries whatever
their number) write rows in the caller's transaction and ask for delivery once
it commits, one task for the rows queued together: a rolled-back change sends
nothing, and a committed one keeps its email even if the process stops before
the task is enqueued (the sweep, every few minutes, enqueues any row left
waiting). Delivery claims each row with one UPDATE, so two workers never send
the same row at once; a refused or unanswered attempt is retried, as a task
of its own, after each of ``EMAIL_RETRY_DELAYS``, then the row is marked
failed and its task fails, for coordinators to see.

At least once: if the mail server accepts a message and the worker dies before
marking the row sent, the sweep sends it again; the Message-ID header stays
the same, so mail servers and clients can recognise the repeat.
https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4
"""

import contextlib
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
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


@dataclass(frozen=True)
class QueuedEmail:
    """One email for ``emails_queue``: to ``to`` about ``event``."""

    event: str
    to: str
    subject: str
    body: str
    attachment: Attachment | None = None


def email_queue(
    *, event: str, to: str, subject: str, body: str,
    attachment: Attachment | None = None,
) -> bool:  # fmt: skip
    """Queue an email to ``to`` about ``event``; returns False if that person
    already has one about it. Call it inside the transaction that makes the
    change: delivery starts when it commits. A later change must have its
    own ``event`` (calendar updates carry a SEQUENCE, so a client applies
    them in order whatever arrives first)."""
    email = QueuedEmail(
        event=event, to=to, subject=subject, body=body, attachment=attachment
    )
    return emails_queue([email]) == 1


def emails_queue(emails: Iterable[QueuedEmail]) -> int:
    """Queue many emails in a few queries whatever their number: one to
    find those already queued, one insert, one to read the new rows' ids.
    A pair of event and address is queued once (the unique constraint
    decides, so a concurrent insert of the same pair is skipped, not
    doubled). Delivery starts when the caller's transaction commits: one
    task for the batch. Returns how many were queued."""
    now = timezone.now()
    rows: dict[tuple[str, str], OutgoingEmail] = {}
    for email in emails:
        key = (email.event[:200], email.to.strip())
        attachment = email.attachment
        rows.setdefault(
            key,
            OutgoingEmail(
                event=key[0],
                to=key[1],
                subject=email.subject[:255],
                body=email.body,
                attachment_name=attachment.filename if attachment else "",
                attachment_type=attachment.content_type if attachment else "",
                attachment=attachment.content if attachment else "",
                next_attempt_at=now,
            ),
        )
    if not rows:
        return 0
    events, addresses = {key[0] for key in rows}, {key[1] for key in rows}
    existing = set(
        OutgoingEmail.objects.filter(event__in=events, to__in=addresses).values_list(
            "event", "to"
        )
    )
    new = {key: row for key, row in rows.items() if key not in existing}
    if not new:
        return 0
    OutgoingEmail.objects.bulk_create(new.values(), ignore_conflicts=True)
    # The insert gives no ids when it may skip rows: read them back. A row a
    # concurrent change inserted first may be among them; delivery claims
    # each row before sending, so its second task finds it taken.
    email_ids = [
        pk
        for pk, event, to in OutgoingEmail.objects.filter(
            event__in={key[0] for key in new},
            to__in={key[1] for key in new},
            status=EmailStatus.PENDING,
        ).values_list("pk", "event", "to")
        if (event, to) in new
    ]
    if email_ids:
        transaction.on_commit(lambda: deliveries_enqueue(email_ids))
    return len(new)


def deliveries_enqueue(email_ids: list[int]) -> None:
    """Ask the worker to deliver these emails: one task for one email, one
    task for a batch (``emails_deliver``), which costs the request one
    queue insert however many people are emailed."""
    if len(email_ids) == 1:
        delivery_enqueue(email_ids[0])
        return
    from .tasks import deliver_emails

    deliver_emails.enqueue(list(email_ids))


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


def emails_deliver(email_ids: list[int]) -> dict[str, int]:
    """One attempt at each email of a batch, over one connection to the
    mail server. Each email keeps its own state and retries (``email_deliver``
    schedules a failed one's retry as its own task); the batch's task fails,
    after trying every email, if any was given up. Returns a count of each
    outcome."""
    outcomes: dict[str, int] = {}
    given_up = []
    connection = get_connection()
    try:
        for email_id in email_ids:
            try:
                outcome = email_deliver(email_id, connection=connection)
            except EmailUndelivered as error:
                given_up.append(str(error))
                outcome = "failed"
            if outcome in ("retrying", "failed"):
                # A fresh connection for the next email: this one may be broken.
                _close_quietly(connection)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    finally:
        _close_quietly(connection)
    if given_up:
        raise EmailUndelivered("; ".join(given_up))
    return outcomes


def _close_quietly(connection) -> None:
    # A broken connection is dropped either way; its error is not the email's.
    with contextlib.suppress(Exception):
        connection.close()


def email_deliver(email_id: int, *, connection=None) -> str:
    """One attempt at one email: "sent", "retrying" or "skipped" (someone
    else has it, or it is not due); raises EmailUndelivered on the last.
    ``connection`` is an open mail connection to reuse (a batch's)."""
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
        connection=connection,
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
    if lost_ids:
        deliveries_enqueue(lost_ids)
    deleted, _ = OutgoingEmail.objects.filter(
        status__in=[EmailStatus.SENT, EmailStatus.FAILED],
        created_at__lt=now - KEEP_FINISHED,
    ).delete()
    return {"resumed": stuck, "enqueued": len(lost_ids), "deleted": deleted}
