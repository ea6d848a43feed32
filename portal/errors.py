"""Error pages that render without a database or a signed-in user.

A service the portal depends on failing (the database, the cache, file
storage, the virus scanner) is not a bug in the portal: the person gets a 503
page saying what happened in plain words and what to do, with a Retry-After
header, instead of the generic 500 page or gunicorn's bare error. Other
exceptions stay 500s, so programming errors are not hidden.
https://design-system.service.gov.uk/patterns/problem-with-the-service-pages/
"""

import errno
import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

logger = logging.getLogger(__name__)

# Seconds a browser or client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 120
# Failures of the disk or the storage service, not of our code: full, read-only,
# over quota, refused permission, or failing hardware.
STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EIO}
)


class ServiceUnavailable(Exception):
    """A dependency failed or did not answer in time. Apps raise a subclass
    naming the ``service``: one of DATABASE, CACHE, STORAGE, SCANNER."""

    service = "service"


DATABASE = "database"
CACHE = "cache"
STORAGE = "storage"
SCANNER = "scanner"


def failing_service(error: BaseException) -> str | None:
    """Which dependency ``error`` says has failed, or None for anything else
    (which stays a 500: a bug must not look like an outage)."""
    if isinstance(error, ServiceUnavailable):
        return error.service
    # Includes PostgreSQL's statement and lock timeouts (QueryCanceled,
    # LockNotAvailable) and a connection refused, reset or lost.
    if isinstance(error, (OperationalError, InterfaceError)):
        return DATABASE
    if _is_redis_error(error):
        return CACHE
    if _is_storage_error(error):
        return STORAGE
    return None


def _is_redis_error(error: BaseException) -> bool:
    module = type(error).__module__
    if not module.startswith("redis"):
        return False
    from redis.exceptions import RedisError

    return isinstance(error, RedisError)


def _is_storage_error(error: BaseException) -> bool:
    # FileNotFoundError and other OSErrors are ours to fix, not outages.
    if isinstance(error, OSError) and error.errno in STORAGE_ERRNOS:
        return True
    if not type(error).__module__.startswith("botocore"):
        return False
    # Imported only here: boto3 is slow to import and is absent in development.
    from botocore.exceptions import BotoCoreError, ClientError

    # Refused, timed out or unreachable endpoints, throttling and S3's own errors.
    return isinstance(error, (BotoCoreError, ClientError))


def service_unavailable(request, service: str) -> HttpResponse:
    """The 503 page for ``service``, rendered without the database or cache
    (no context processors, no session: they may be what failed)."""
    html = loader.get_template("503.html").render({"service": service})
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    # Django calls this while handling the exception, wherever it was raised:
    # in a view (ServiceUnavailableMiddleware answers those first) or in a
    # middleware, such as the session or second-factor checks reading the
    # database.
    error = sys.exc_info()[1]
    service = failing_service(error) if error is not None else None
    if service is not None:
        return service_unavailable(request, service)
    # No context processors: the failure may be in the database they query.
    return HttpResponseServerError(loader.get_template("500.html").render())
