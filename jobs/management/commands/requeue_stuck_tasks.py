"""``manage.py requeue_stuck_tasks``: recover tasks a killed worker left
running (jobs.recovery), on the schedule."""

from django.core.management.base import BaseCommand

from jobs.recovery import stuck_tasks_requeue


class Command(BaseCommand):
    help = (
        "Mark tasks running longer than DJANGO_TASKS_STUCK_AFTER_SECONDS failed "
        "(their worker stopped) and enqueue each again once."
    )

    def handle(self, *args, **options):
        counts = stuck_tasks_requeue()
        self.stdout.write(
            "Stuck tasks marked failed: {failed}; enqueued again: {enqueued}.".format(
                **counts
            )
        )
