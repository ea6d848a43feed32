"""A health check for load balancers: the database, the cache and the task
queue, no data."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from accounts.access import public
from jobs.health import queue_check

logger = logging.getLogger(__name__)


@public
@never_cache
def health(request):
    queue_ok, queue_detail = queue_check()
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
    key = f"health:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=5)
        ok = cache.get(key) == "1"
        cache.delete(key)
        return ok
    except Exception:
        logger.exception("Health check: cache unavailable")
        return False
