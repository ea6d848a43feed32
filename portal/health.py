"""A health check for load balancers and monitoring: each dependency, no data.

``settings.HEALTH_CHECKS`` names the checks, one line each, as dotted paths to
functions taking no arguments. A check answers "ok", or "off" for a service
switched off on purpose (no virus scanner configured), or a short reason it
is failing, alone or with a dict of counts (the queue's lag and failures);
an exception counts as failing too. Each check keeps to its own
short timeout (``settings.HEALTH_CHECK_TIMEOUT``), so a hung service makes its
own check fail rather than the probe time out.

The answer is 503 while any check fails (a late daily job only warns), and
says only which checks pass:
never a host name, bucket, address or error message (those go to the log).
"""

import logging
import socket

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.http import JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache

from portal.access import public

from . import freshness

logger = logging.getLogger(__name__)

OK = "ok"
OFF = "off"  # not configured, on purpose; counts as healthy
FAILING = "failing"
# The only reasons the answer may give; anything else is reported as "error".
REASONS = frozenset(
    {
        "timeout",
        "unreachable",
        "wrong answer",
        "stuck",
        "read-only",
        "full",
        "lagging",
        "overdue",
        "error",
    }
)
# Reasons that warn without failing: a late daily job is for people to look
# into, not a reason for the load balancer to stop sending requests here.
WARNINGS = frozenset({"overdue"})
WARNING = "warning"


@public
@never_cache
def health(request):
    results, counts = {}, {}
    for name, path in _checks().items():
        results[name], counts[name] = _result(name, path)
    failing = {name: r for name, r in results.items() if r not in (OK, OFF, *WARNINGS)}
    warnings = {name: r for name, r in results.items() if r in WARNINGS}
    body = {
        "status": "unavailable" if failing else OK,
        "checks": {
            name: FAILING if name in failing else WARNING if name in warnings else r
            for name, r in results.items()
        },
    }
    if failing:
        body["reasons"] = failing
    if warnings:
        body["warnings"] = warnings
    # A check may add counts (the queue's lag and failures): whole numbers only.
    body.update({name: numbers for name, numbers in counts.items() if numbers})
    return JsonResponse(body, status=503 if failing else 200)


def _checks() -> dict[str, str]:
    return dict(settings.HEALTH_CHECKS)


def _result(name: str, path: str) -> tuple[str, dict[str, int]]:
    """The check's word, and any counts it gives: a check returns "ok", "off"
    or a reason, or that word with a dict of counts."""
    try:
        answer = import_string(path)()
    except Exception as error:
        logger.exception("Health check %s: failing", name)
        return reason_for(error), {}
    counts = {}
    if isinstance(answer, tuple):
        answer, given = answer
        counts = {
            str(key): value
            for key, value in given.items()
            if isinstance(value, int) and not isinstance(value, bool)
        }
    if answer in (OK, OFF):
        return answer, counts
    logger.error("Health check %s: %s", name, answer)
    return (answer if answer in REASONS else "error"), counts


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
    """Write, read and delete a value (portal.freshness). The cache's own
    socket timeout bounds this; portal.redis_cache turns a failure into a
    miss, seen here as the value not coming back."""
    return OK if freshness.cache_answers() else "unreachable"
