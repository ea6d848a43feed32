"""``manage.py send_queued_emails``: the outbox sweep (jobs.mail), on the schedule."""

from django.core.management.base import BaseCommand

from jobs.mail import outgoing_emails_sweep


class Command(BaseCommand):
    help = (
        "Enqueue emails whose delivery task was lost, put back those a stopped "
        "worker was sending, and delete finished ones after 90 days."
    )

    def handle(self, *args, **options):
        counts = outgoing_emails_sweep()
        self.stdout.write(
            "Emails enqueued again: {enqueued} ({resumed} left by a stopped "
            "worker); finished emails deleted: {deleted}.".format(**counts)
        )
