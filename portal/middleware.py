"""Requests the portal refuses before any view sees them."""

from django.core.exceptions import BadRequest

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
