"""Background tasks for agreements (django-tasks).

The daily run is on the portal's schedule (jobs.schedule runs the
``send_agreement_reminders`` command); this task is the same run for callers
that want it queued.
"""

from django_tasks import task

from .services import reminders_send


@task()
def send_agreement_reminders_task() -> int:
    """Queue today's agreement review reminders; returns how many were queued.

    Each threshold is claimed in the transaction that queues its emails, so a
    second run the same day, an overlapping run or a retry queues nothing
    twice, and a missed day is caught up by the next. Delivery, with retries,
    is the outbox's (jobs.mail).
    """
    return reminders_send()
