"""Record the end of restrictions past their end date: run it daily."""

from django.core.management.base import BaseCommand

from referrals.services import restrictions_end_expired


class Command(BaseCommand):
    help = (
        "Record the end of every restriction of processing whose end date has "
        "passed. The checks already treat such a restriction as ended; this "
        "writes it into the case's history and the audit log, and rebuilds "
        "the meeting packs that left the case out."
    )

    def handle(self, *args, **options):
        count = restrictions_end_expired()
        noun = "restriction" if count == 1 else "restrictions"
        self.stdout.write(f"Ended {count} {noun} past their end date.")
