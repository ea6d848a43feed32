"""Permission-aware reads of pages: what a listing or search may show."""

from wagtail.models import PageViewRestriction
from wagtail.query import PageQuerySet


def pages_open_to(request, pages: PageQuerySet) -> PageQuerySet:
    """``pages`` without any section whose view restriction this request does
    not meet, so a list never names a page that would refuse its reader.

    A restriction covers its page and every page below it, and Wagtail's own
    ``accept_request`` decides, as when the page itself is served. Listings
    kept in the page cache are keyed on who the reader is
    (``portal.freshness.audience``: groups included) and outdated by privacy
    changes (docs/caching.md).
    """
    for restriction in PageViewRestriction.objects.select_related("page"):
        if not restriction.accept_request(request):
            pages = pages.exclude(path__startswith=restriction.page.path)
    return pages
