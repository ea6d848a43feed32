"""The daily access-governance job (it is on the schedule, jobs/schedule.py)."""

import argparse
from datetime import date, datetime

from django.core.management.base import BaseCommand

from accounts.services import recertification_run


def iso_date(value: str) -> date:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"enter the date as YYYY-MM-DD, for example 2026-10-08, not {value!r}"
        ) from None


class Command(BaseCommand):
    help = (
        "Open each organisation's quarterly access review, remind its single "
        "point of contact 7, 3 and 1 days before the deadline, suspend people "
        "not confirmed by then, and suspend accounts unused for "
        "DJANGO_DORMANT_ACCOUNT_DAYS. Safe to run twice: nothing is sent twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=iso_date,
            metavar="YYYY-MM-DD",
            help="Act as if today were this date (YYYY-MM-DD). Defaults to today.",
        )

    def handle(self, *args, **options):
        run = recertification_run(today=options["date"])
        self.stdout.write(
            f"Access reviews: {run.opened} opened, {run.reminded} reminders, "
            f"{run.closed} closed ({run.lapsed} people suspended unconfirmed); "
            f"{run.dormant} dormant accounts suspended."
        )
        if run.skipped:
            self.stdout.write(
                "No review opened, for want of a valid single point of contact: "
                + ", ".join(run.skipped)
            )
