"""Work out and store the statistics page's figures for its standard periods:
run every few minutes (jobs.schedule), so no board member waits for them."""

import time

from django.core.management.base import BaseCommand

from board.snapshots import snapshots_refresh


class Command(BaseCommand):
    help = (
        "Work out the board's figures and charts for the last 12 months and "
        "each preset period and store them for /board/ (board.snapshots)."
    )

    def handle(self, *args, **options):
        started = time.monotonic()
        periods = snapshots_refresh()
        seconds = time.monotonic() - started
        labels = "; ".join(period.label for period in periods)
        self.stdout.write(f"Board figures stored for {labels} in {seconds:.1f} s.")
