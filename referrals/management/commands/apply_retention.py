"""Dispose of cases past their retention period: the daily job."""

from django.core.management.base import BaseCommand

from referrals.retention import retention_apply


class Command(BaseCommand):
    help = (
        "Destroy every closed case whose retention period, under the "
        "Information Sharing Agreement in force today, has ended and which is "
        "not on legal hold; leave a tombstone for each. Then the shared-file "
        "records and the meeting records (minutes, attendance, packs) past "
        "their own periods. --dry-run lists them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List, destroy nothing."
        )
        parser.add_argument(
            "--authorised-by",
            default="the daily retention job (manage.py apply_retention)",
            help="Who or what authorised this run, kept in each tombstone.",
        )

    def handle(self, *args, dry_run=False, authorised_by="", **options):
        result = retention_apply(authorised_by=authorised_by, dry_run=dry_run)
        if result.schedule is None:
            self.stdout.write(
                "No published Information Sharing Agreement gives retention "
                "periods: nothing was disposed of."
            )
            return
        verb = "Would dispose of" if dry_run else "Disposed of"
        self.stdout.write(
            f"{verb} {len(result.disposed)} case(s) under "
            f"{result.schedule.version_label} ({result.schedule.case_months} "
            f"months after closure): {', '.join(result.disposed) or 'none'}."
        )
        if result.held:
            self.stdout.write(f"Kept on legal hold: {', '.join(result.held)}.")
        for records in result.records:
            self.stdout.write(
                f"{verb} {len(records.disposed)} {records.kind} ({records.period})"
                + (f": {', '.join(records.disposed)}." if records.disposed else ".")
            )
            if records.held:
                self.stdout.write(
                    f"Kept on legal hold ({records.kind}): {', '.join(records.held)}."
                )
