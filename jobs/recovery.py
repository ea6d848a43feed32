"""Tasks left RUNNING by a worker that was killed (out of memory, a deploy
that did not wait, a lost machine): django-tasks' database backend leaves
them RUNNING for ever, and nothing runs them again.

``stuck_tasks_requeue`` marks each task RUNNING longer than
``TASKS_STUCK_AFTER_SECONDS`` failed, with an error saying the worker stopped
(coordinators see it under Background work > Tasks), and enqueues it again
once. Every task of ours is safe to run again: emails go through the outbox,
whose (event, recipient) key sends nothing twice; pack builds keep unchanged
packs; scheduled jobs catch up by themselves. A rerun that is left stuck too
is marked failed and not enqueued again, so a task that kills its worker
every time does not loop.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


class WorkerStopped(Exception):
    """The worker running a task stopped before the task finished."""


WORKER_STOPPED = f"{WorkerStopped.__module__}.{WorkerStopped.__qualname__}"


def stuck_tasks_requeue(*, now=None) -> dict[str, int]:
    """Fail every stuck task and enqueue each again once; returns counts."""
    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.TASKS_STUCK_AFTER_SECONDS)
    stuck = DBTaskResult.objects.filter(
        status=TaskResultStatus.RUNNING, started_at__lt=stuck_before
    ).order_by("started_at")
    counts = {"failed": 0, "enqueued": 0}
    for result in stuck:
        with transaction.atomic():
            again = not _stopped_before(result)
            note = (
                "enqueued again" if again else "not enqueued again: a rerun stopped too"
            )
            error = WorkerStopped(
                f"The worker stopped while running this task (started "
                f"{result.started_at:%Y-%m-%d %H:%M:%S} UTC, worker "
                f"{', '.join(result.worker_ids) or 'unknown'}); {note}."
            )
            # One UPDATE decides between overlapping sweeps: only the one that
            # moves the row off RUNNING enqueues, so the rerun happens once.
            claimed = DBTaskResult.objects.filter(
                pk=result.pk, status=TaskResultStatus.RUNNING
            ).update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                exception_class_path=WORKER_STOPPED,
                traceback=f"{WORKER_STOPPED}: {error}\n",
                return_value=None,
            )
            if not claimed:
                continue
            counts["failed"] += 1
            if again:
                result.task.enqueue(
                    *result.args_kwargs["args"], **result.args_kwargs["kwargs"]
                )
                counts["enqueued"] += 1
        logger.warning("Task %s (%s) was stuck: %s", result.pk, result.task_path, note)
    return counts


def _stopped_before(result: DBTaskResult) -> bool:
    """Was the same call (task and arguments) already failed as stuck?"""
    earlier = DBTaskResult.objects.filter(
        task_path=result.task_path,
        status=TaskResultStatus.FAILED,
        exception_class_path=WORKER_STOPPED,
        enqueued_at__lt=result.enqueued_at,
    ).values_list("args_kwargs", flat=True)
    return any(args_kwargs == result.args_kwargs for args_kwargs in earlier)
