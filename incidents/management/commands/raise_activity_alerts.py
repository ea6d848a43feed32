"""Look for unusual activity in the audit log: on the schedule."""

from django.core.management.base import BaseCommand

from incidents.alerts import alerts_raise


class Command(BaseCommand):
    help = (
        "Raise an alert to coordinators and the DPO for many refusals, bulk "
        "downloads, downloads outside working hours or many meeting packs by "
        "one person in the last day (thresholds in settings). Evidence is used "
        "once, so running it again raises nothing twice."
    )

    def handle(self, *args, **options):
        raised = alerts_raise()
        self.stdout.write(f"Alerts raised: {len(raised)}.")
