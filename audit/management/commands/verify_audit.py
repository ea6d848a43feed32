"""Recompute the audit log's hash chain and name the first broken row."""

from django.core.management.base import BaseCommand, CommandError

from audit.models import AuditEvent
from audit.services import audit_chain_verify


class Command(BaseCommand):
    help = "Check that no audit event has been altered, removed or reordered."

    def handle(self, *args, **options):
        problem = audit_chain_verify()
        if problem is not None:
            raise CommandError(
                f"The audit chain is broken at event {problem.row_id}: "
                f"{problem.reason}."
            )
        count = AuditEvent.objects.count()
        self.stdout.write(
            self.style.SUCCESS(f"The audit chain is intact ({count} events).")
        )
