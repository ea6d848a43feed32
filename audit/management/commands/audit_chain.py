"""Chain audit events left pending: run every minute by the schedule
(jobs/schedule.py). Events are normally chained on commit by the writer that
recorded them; this catches those whose chainer stopped or rolled back."""

from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from audit.services import audit_chain_pending


class Command(BaseCommand):
    help = "Link audit events recorded but not yet chained into the audit chain."

    def handle(self, *args, **options):
        # Waits a little for a writer that is chaining right now; a lock held
        # for longer is verify_audit's and the health check's to report.
        chained = audit_chain_pending(wait=2.0)
        self.stdout.write(f"{chained} pending audit event{pluralize(chained)} chained.")
