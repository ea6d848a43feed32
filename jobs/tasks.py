"""The tasks the worker runs for this app: a delivery attempt at one email or
at a batch queued together, and one scheduled job's run."""

from django_tasks import task

from .mail import email_deliver, emails_deliver


@task()
def deliver_email(email_id: int) -> str:
    """Try to send one queued email (jobs.mail); retries enqueue themselves."""
    return email_deliver(email_id)


@task()
def deliver_emails(email_ids: list[int]) -> dict[str, int]:
    """Try to send each email of a batch queued together (jobs.mail), over
    one connection; each failed one's retry is its own ``deliver_email``."""
    return emails_deliver(email_ids)


@task()
def run_scheduled_job(name: str) -> str:
    """Run one job of the schedule (jobs.schedule) and return what it printed."""
    from .schedule import job_run

    return job_run(name)
