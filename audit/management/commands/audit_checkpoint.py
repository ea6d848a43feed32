"""Sign the audit chain's head and keep it outside the database: run it daily,
from cron or a timer, after or instead of verify_audit (docs/audit.md)."""

from django.core.management.base import BaseCommand, CommandError

from audit.services import AuditChainBroken, audit_checkpoint_record


class Command(BaseCommand):
    help = (
        "Check the audit log, then write a signed checkpoint of its newest event "
        "to the checkpoint file and, where configured, the checkpoint storage."
    )

    def handle(self, *args, **options):
        try:
            checkpoint, written, failed = audit_checkpoint_record()
        except AuditChainBroken as exc:
            raise CommandError(
                "No checkpoint written: the audit log failed its check.\n"
                + "\n".join(exc.problems)
            ) from exc
        # The line itself goes to the output too, so the daily run's log (or
        # mail) holds a copy beyond the portal's reach.
        self.stdout.write(checkpoint.to_json())
        for label in written:
            self.stdout.write(self.style.SUCCESS(f"Checkpoint written to {label}."))
        if failed:
            raise CommandError(
                "The checkpoint could not be written to:\n" + "\n".join(failed)
            )
