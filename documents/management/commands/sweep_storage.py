"""Delete stored files that no row refers to, for every stored kind."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from files.stored import storage_sweep, stored_kinds


class Command(BaseCommand):
    help = (
        "Delete stored files (shared files, referral attachments, meeting "
        "packs, published documents) that no row refers to once they are older "
        "than STORAGE_SWEEP_GRACE_HOURS, and resolve uploads a crash left "
        "pending. Audited (counts only). Run it daily."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Report what would be deleted, and delete nothing.",
        )
        parser.add_argument(
            "--grace-hours",
            type=float,
            default=None,
            help="Treat files as old enough after this many hours instead of "
            "the setting (0 right after a restore, when no upload is running).",
        )

    def handle(self, *args, **options):
        hours = options["grace_hours"]
        result = storage_sweep(
            grace=None if hours is None else timedelta(hours=hours),
            dry_run=options["dry_run"],
        )
        verb = "Would delete" if result.dry_run else "Deleted"
        for kind in stored_kinds():
            orphans = result.orphans[kind.name]
            abandoned = result.abandoned[kind.name]
            confirmed = result.confirmed[kind.name]
            self.stdout.write(
                f"{kind.name}: {verb.lower()} {orphans} unreferenced "
                f"file{pluralize(orphans)} and {abandoned} abandoned "
                f"upload{pluralize(abandoned)}; {confirmed} pending "
                f"upload{pluralize(confirmed)} found saved."
            )
        self.stdout.write(f"{verb} {result.deleted} file{pluralize(result.deleted)}.")
