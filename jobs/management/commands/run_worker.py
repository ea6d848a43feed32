"""``manage.py run_worker``: the background worker, with the schedule.

django-tasks' database worker (``db_worker``, same options) runs the queued
tasks; beside it a thread enqueues the scheduled jobs as they fall due
(jobs.schedule), and another, the audit sequencer, chains audit events left
pending every ``AUDIT_SEQUENCER_SECONDS`` (docs/audit.md), so one process does
all background work. Run as many as needed: the queue and the schedule both
let only one worker take each item, and the chain's lock one chainer.
"""

import logging
import os
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from audit.services import audit_chain_pending
from jobs.schedule import schedule_tick

logger = logging.getLogger(__name__)

TICK_SECONDS = 60


def _schedule_loop(stop: threading.Event, interval: float) -> None:
    while not stop.is_set():
        try:
            schedule_tick()
        except Exception:  # a database blip must not end the schedule
            logger.exception("Scheduled jobs could not be enqueued")
        finally:
            close_old_connections()
        stop.wait(interval)


def _audit_sequencer_loop(stop: threading.Event, interval: float) -> None:
    """Chain what writers left pending (they chain at most once per
    AUDIT_CHAIN_INTERVAL_MS each), so an event waits about ``interval`` at
    most; when nothing is pending it costs one small query."""
    while not stop.wait(interval):
        try:
            # Again at once while it finds events, so a backlog drains; and
            # it waits for a writer chaining its turn rather than backing off
            # for a whole interval (that let a backlog of 15,000 build up).
            while audit_chain_pending(wait=interval) and not stop.is_set():
                pass
        except Exception:  # a database blip must not end the sequencer
            logger.exception("Pending audit events could not be chained")
            connection.close()  # a fresh connection on the next round


class Command(db_worker.Command):
    help = "Run background tasks and enqueue scheduled jobs as they fall due."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument(
            "--no-schedule",
            action="store_false",
            dest="schedule",
            help="Run tasks only; leave the schedule to another worker.",
        )
        parser.add_argument(
            "--schedule-interval",
            type=float,
            default=TICK_SECONDS,
            help="Seconds between looks at the schedule (default: %(default)s).",
        )

    def handle(self, *args, schedule, schedule_interval, **options):
        # With --reload the first process only watches files and restarts the
        # second, which does the work: only that one keeps the schedule.
        watcher_only = (
            options["reload"]
            and not options["batch"]
            and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true"
        )
        stop = threading.Event()
        if schedule and not options["batch"] and not watcher_only:
            threading.Thread(
                target=_schedule_loop,
                args=(stop, schedule_interval),
                name="schedule",
                daemon=True,
            ).start()
        sequencer = settings.AUDIT_SEQUENCER_SECONDS
        if sequencer > 0 and not options["batch"] and not watcher_only:
            threading.Thread(
                target=_audit_sequencer_loop,
                args=(stop, sequencer),
                name="audit-sequencer",
                daemon=True,
            ).start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
