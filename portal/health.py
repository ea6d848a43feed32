"""A health check for load balancers and monitoring: each dependency, no data.

``settings.HEALTH_CHECKS`` names the checks, one line each, as dotted paths to
functions taking no arguments. A check answers "ok", or "off" for a service
switched off on purpose (no virus scanner configured), or a short reason it
is failing; an exception counts as failing too. Each check keeps to its own
short timeout (``settings.HEALTH_CHECK_TIMEOUT``), so a hung service makes its
own check fail rather than the probe time out.

The answer is 503 while any check fails, and says only which checks pass:
never a host name, bucket, address or error message (those go to the log).
"""

import logging
import socket
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache

from accounts.access import public

logger = logging.getLogger(__name__)

OK = "ok"
OFF = "off"  # not configured, on purpose; counts as healthy
FAILING = "failing"
# The only reasons the answer may give; anything else is reported as "error".
REASONS = frozenset(
    {"timeout", "unreachable", "wrong answer", "stuck", "read-only", "full", "error"}
)


@public
@never_cache
def health(request):
    results = {name: _result(name, path) for name, path in _checks().items()}
    failing = {name: r for name, r in results.items() if r not in (OK, OFF)}
    body = {
        "status": "unavailable" if failing else OK,
        "checks": {
            name: FAILING if name in failing else r for name, r in results.items()
        },
    }
    if failing:
        body["reasons"] = failing
    return JsonResponse(body, status=503 if failing else 200)


def _checks() -> dict[str, str]:
    return dict(settings.HEALTH_CHECKS)


def _result(name: str, path: str) -> str:
    try:
        result = import_string(path)()
    except Exception as error:
        logger.exception("Health check %s: failing", name)
        return reason_for(error)
    if result in (OK, OFF):
        return result
    logger.error("Health check %s: %s", name, result)
    return result if result in REASONS else "error"


def reason_for(error: BaseException) -> str:
    """A short, secret-free word for why a check raised."""
    text = f"{type(error).__name__} {error}".lower()
    if isinstance(error, TimeoutError | socket.timeout) or "timeout" in text:
        return "timeout"
    if isinstance(error, ConnectionError | OperationalError | InterfaceError):
        return "unreachable"
    if "connect" in text:
        return "unreachable"
    return "error"


def database_check() -> str:
    """One query, cancelled by PostgreSQL if it takes longer than the timeout."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            milliseconds = int(settings.HEALTH_CHECK_TIMEOUT * 1000)
            cursor.execute(f"SET LOCAL statement_timeout = {milliseconds}")
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            return "wrong answer"
    return OK


def cache_check() -> str:
    """Write, read and delete a value. The cache's own socket timeout bounds
    this; portal.redis_cache turns a failure into a miss, seen here as the
    value not coming back."""
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    found = cache.get(key)
    cache.delete(key)
    if found == "1":
        return OK
    if getattr(cache, "available", True) is False:
        return "unreachable"
    return "wrong answer"
