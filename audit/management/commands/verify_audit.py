"""Check the audit log: every event's link and HMAC, and the table against the
signed checkpoints kept outside the database (docs/audit.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from audit.checkpoints import checkpoint_stores, utc_text
from audit.services import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Check that no audit event has been altered, removed or reordered, "
        "and that the log still matches every signed checkpoint."
    )

    def handle(self, *args, **options):
        result = audit_chain_verify()
        if not result.intact:
            # Exits non-zero, for a scheduler or monitoring to raise the alarm.
            raise CommandError("\n".join(result.problems))
        self.stdout.write(
            self.style.SUCCESS(
                f"The audit chain is intact ({result.events} "
                f"event{pluralize(result.events)})."
            )
        )
        if result.segments:
            self.stdout.write(
                f"{result.sealed} of them {pluralize(result.sealed, 'is,are')} "
                f"sealed in {result.segments} segment{pluralize(result.segments)}"
                + (
                    f", {result.destroyed_segments} of whose files were destroyed "
                    "after their retention period (their signed records stand "
                    "for them)"
                    if result.destroyed_segments
                    else ""
                )
                + "."
            )
        if result.checkpoints:
            count = len(result.checkpoints)
            newest = max(result.checkpoints, key=lambda c: c.taken_at)
            self.stdout.write(
                f"It matches {count} signed checkpoint{pluralize(count)}, the "
                f"newest taken {utc_text(newest.taken_at)} ({newest.events} "
                f"event{pluralize(newest.events)})."
            )
        elif result.events:
            stores = ", ".join(store.label for store in checkpoint_stores())
            self.stderr.write(
                self.style.WARNING(
                    f"No checkpoint found in {stores}: removal of the newest "
                    "events cannot be detected. Run manage.py audit_checkpoint "
                    "daily."
                )
            )
        if result.unkeyed:
            self.stdout.write(
                f"{result.unkeyed} event{pluralize(result.unkeyed)} predate"
                f"{pluralize(result.unkeyed, 's,')} keyed hashing; the first "
                "keyed event after them vouches for them."
            )
