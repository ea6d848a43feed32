"""Queue the review reminders that are due: run it daily (it is on the schedule)."""

import argparse
from datetime import date, datetime

from django.core.management.base import BaseCommand

from agreements.services import reminders_send


def iso_date(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"enter the date as YYYY-MM-DD, for example 2026-10-08, not {value!r}"
        ) from None


class Command(BaseCommand):
    help = (
        "Email review reminders 90, 60, 30, 7 and 1 days before each agreement's "
        "review to its responsible officer and the signatories still to "
        "acknowledge it. Each reminder goes out once, so running it twice is safe."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=iso_date,
            metavar="YYYY-MM-DD",
            help="Act as if today were this date (YYYY-MM-DD). Defaults to today.",
        )

    def handle(self, *args, **options):
        count = reminders_send(today=options["date"])
        noun = "email" if count == 1 else "emails"
        self.stdout.write(f"Queued {count} review reminder {noun}.")
