"""Build the last whole quarter's board report once: run it daily."""

from django.core.management.base import BaseCommand

from board.periods import last_quarter
from board.reports import quarterly_report_due, report_build


class Command(BaseCommand):
    help = (
        "Build the board report (PDF and CSV) for the last whole quarter, "
        "unless it is already built; --again builds it afresh."
    )

    def add_arguments(self, parser):
        parser.add_argument("--again", action="store_true",
                            help="Build it even if it was built before.")  # fmt: skip

    def handle(self, *args, again=False, **options):
        period = last_quarter() if again else quarterly_report_due()
        if period is None:
            self.stdout.write("The last quarter's board report is already built.")
            return
        report_build(period=period)
        self.stdout.write(f"Built the board report for {period.label}.")
