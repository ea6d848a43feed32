"""Seal audit events older than the retention period into signed segment
files, and, only when asked, destroy old segment files (docs/audit.md)."""

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from audit.segments import (
    audit_retention_in_force,
    audit_seal,
    audit_segments_destroy,
    retention_cutoff,
)
from audit.services import audit_chain_verify


class Command(BaseCommand):
    help = (
        "Move audit events older than the audit retention period out of the "
        "table into signed segment files in private storage. The period is the "
        "one the ISA version in force gives, or DJANGO_AUDIT_RETENTION_YEARS "
        "when none does. With "
        "--destroy-older-than, delete instead the files of segments whose "
        "newest event is older than that many years (their records stay)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--destroy-older-than",
            type=int,
            metavar="YEARS",
            help="delete sealed segment files whose newest event is older than this",
        )

    def handle(self, *args, destroy_older_than=None, **options):
        # Never seal (or destroy) from a log that fails its check: the file
        # would vouch for tampered events.
        verification = audit_chain_verify()
        if not verification.intact:
            raise CommandError(
                "Nothing sealed: the audit log failed its check.\n"
                + "\n".join(verification.problems)
            )
        retention = audit_retention_in_force()
        if destroy_older_than is not None:
            if destroy_older_than < retention.years:
                raise CommandError(
                    f"--destroy-older-than {destroy_older_than} is shorter than "
                    f"the audit retention period ({retention.years} years, "
                    f"from {retention.source})."
                )
            destroyed = audit_segments_destroy(older_than_years=destroy_older_than)
            for segment in destroyed:
                self.stdout.write(f"Destroyed the file of {segment}.")
            count = len(destroyed)
            self.stdout.write(
                self.style.SUCCESS(
                    f"{count} segment file{pluralize(count)} destroyed; the "
                    "records stay, so the chain still verifies."
                )
            )
            return
        self.stdout.write(
            f"Audit retention period: {retention.years} years, from {retention.source}."
        )
        segments = audit_seal()
        for segment in segments:
            self.stdout.write(
                f"Sealed {segment.events} event{pluralize(segment.events)} into "
                f"{segment.file_name} (SHA-256 {segment.sha256})."
            )
        if not segments:
            self.stdout.write(
                f"No audit event is older than {retention_cutoff():%Y-%m-%d}: "
                "nothing to seal."
            )
