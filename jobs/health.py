"""The queue's part of /health/: is the worker keeping up, and has anything
failed for good?"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Min
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus, task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

from .models import EmailStatus, OutgoingEmail

logger = logging.getLogger(__name__)

# Failures counted are those of the last day: older ones are in the admin list.
FAILED_WINDOW = timedelta(days=1)


def queue_check() -> tuple[str, dict[str, int]]:
    """("ok" or "lagging", counts) for /health/: ok while the oldest task
    ready to run has waited no longer than TASKS_MAX_LAG_SECONDS. Failed
    tasks and undelivered emails are counted, not failing: one bad address
    must not take the portal out of the load balancer."""
    if not isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
        return "ok", {"lag_seconds": 0, "failed_tasks": 0, "undelivered_emails": 0}
    try:
        now = timezone.now()
        ready = DBTaskResult.objects.ready().order_by()
        # A task is waiting from when it was enqueued or, if deferred, from
        # the time it was deferred to.
        waiting_since = [
            ready.filter(run_after=get_date_max()).aggregate(t=Min("enqueued_at"))["t"],
            ready.exclude(run_after=get_date_max()).aggregate(t=Min("run_after"))["t"],
        ]
        lag = max(
            (int((now - since).total_seconds()) for since in waiting_since if since),
            default=0,
        )
        failed = DBTaskResult.objects.filter(
            status=TaskResultStatus.FAILED, finished_at__gte=now - FAILED_WINDOW
        ).count()
        undelivered = OutgoingEmail.objects.filter(status=EmailStatus.FAILED).count()
    except Exception:
        logger.exception("Health check: task queue unreadable")
        return "unreachable", {}
    detail = {
        "lag_seconds": lag,
        "failed_tasks": failed,
        "undelivered_emails": undelivered,
    }
    return ("ok" if lag <= settings.TASKS_MAX_LAG_SECONDS else "lagging"), detail
