"""Remind the data protection officer of subject access requests falling
due: on the schedule (jobs.schedule)."""

from django.core.management.base import BaseCommand

from rights.sar import sar_reminders_send


class Command(BaseCommand):
    help = (
        "Email the data protection officers 7 days and 1 day before a subject "
        "access request is due, and once it is overdue: the reference and a "
        "link only. Each goes out once per due date, so running it again is "
        "safe."
    )

    def handle(self, *args, **options):
        sent = sar_reminders_send()
        self.stdout.write(
            f"Subject access reminders: 7 days {sent.week}; 1 day {sent.day}; "
            f"overdue {sent.overdue}."
        )
