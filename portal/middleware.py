"""Requests the portal refuses before any view sees them, and the answer to
a request that met a failing service."""

import logging

from django.core.exceptions import BadRequest

from .errors import failing_service, service_unavailable

logger = logging.getLogger(__name__)

NULL_CHARACTER = "\x00"


class RefuseNullCharactersMiddleware:
    """Answer 400 Bad Request to an address holding a NUL character (``%00``).

    No page of ours links to one, and PostgreSQL refuses NUL in text: a view
    or middleware that looked the value up (a referral reference, a search, an
    admin list filter, Wagtail's redirects) would fail with a 500 instead.
    Form fields are checked where they are cleaned, so a person sees which
    answer to fix (portal.forms.RefusesNullCharacters).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NULL_CHARACTER in request.path or any(
            NULL_CHARACTER in name or any(NULL_CHARACTER in v for v in values)
            for name, values in request.GET.lists()
        ):
            # Django answers with templates/400.html.
            raise BadRequest("The address holds a NUL character")
        return self.get_response(request)


class ServiceUnavailableMiddleware:
    """Answer 503 with a plain page when a view meets a failing service.

    The database, the cache, file storage or the virus scanner failing or
    timing out (portal.errors.failing_service) gets the "problem with the
    service" page with Retry-After; every other exception goes on to the 500
    page. A failure raised in a middleware reaches ``portal.errors.server_error``,
    which gives the same page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        service = failing_service(exception)
        if service is None:
            return None
        logger.error(
            "%s unavailable: %s %s answered 503",
            service.capitalize(),
            request.method,
            # The view's name, not the address: addresses hold case references.
            getattr(request.resolver_match, "view_name", "") or "a page",
            exc_info=exception,
        )
        return service_unavailable(request, service)
