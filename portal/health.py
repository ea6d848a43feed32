"""A health check for load balancers: the database, the cache and the task
queue, no data."""

import logging

from django.db import connection
from django.http import JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache

from portal.access import public

from . import freshness

logger = logging.getLogger(__name__)


@public
@never_cache
def health(request):
    # Named, not imported: the platform imports no app above it.
    queue_ok, queue_detail = import_string("jobs.health.queue_check")()
    checks = {"database": _database_ok(), "cache": _cache_ok(), "queue": queue_ok}
    healthy = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "unavailable",
            "checks": {k: "ok" if v else "failing" for k, v in checks.items()},
            # Counts only: how long the oldest ready task has waited, and
            # what has failed for good (jobs.health).
            "queue": queue_detail,
        },
        status=200 if healthy else 503,
    )


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        logger.exception("Health check: database unavailable")
        return False


def _cache_ok() -> bool:
    try:
        return freshness.cache_answers()
    except Exception:
        logger.exception("Health check: cache unavailable")
        return False
