"""The tasks the worker runs for this app: one email's delivery attempt and
one scheduled job's run."""

from django_tasks import task

from .mail import email_deliver


@task()
def deliver_email(email_id: int) -> str:
    """Try to send one queued email (jobs.mail); retries enqueue themselves."""
    return email_deliver(email_id)


@task()
def run_scheduled_job(name: str) -> str:
    """Run one job of the schedule (jobs.schedule) and return what it printed."""
    from .schedule import job_run

    return job_run(name)
