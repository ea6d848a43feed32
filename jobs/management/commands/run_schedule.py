"""``manage.py run_schedule``: enqueue the scheduled jobs that are due.

``run_worker`` does this every minute by itself; this command is for a
platform whose worker cannot (``--once`` from cron) and for the docs
(``--table`` prints the schedule as docs/operations.md shows it).
"""

from django.core.management.base import BaseCommand

from jobs.schedule import schedule_table, schedule_tick


class Command(BaseCommand):
    help = "Enqueue every scheduled job that is due, once per slot."

    def add_arguments(self, parser):
        parser.add_argument(
            "--table",
            action="store_true",
            help="Print the schedule as a Markdown table instead.",
        )

    def handle(self, *args, table, **options):
        if table:
            self.stdout.write(schedule_table(), ending="")
            return
        enqueued = schedule_tick()
        self.stdout.write(f"Enqueued: {', '.join(enqueued) or 'nothing was due'}.")
