"""Remind incident handlers of the ICO deadline: on the schedule."""

from django.core.management.base import BaseCommand

from incidents.services import clock_reminders_send


class Command(BaseCommand):
    help = (
        "Email coordinators and the DPO when an incident has "
        "DJANGO_INCIDENT_REMINDER_HOURS_LEFT hours left of the 72 to decide on "
        "telling the ICO, and once the 72 hours have passed. Each goes out "
        "once, so running it again is safe."
    )

    def handle(self, *args, **options):
        counts = clock_reminders_send()
        self.stdout.write(
            f"Incidents reminded: {counts['reminded']}; overdue: {counts['overdue']}."
        )
