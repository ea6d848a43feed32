from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.models import Role
from audit.services import audit_record
from portal.access import public

from .audit_actions import HomeAction


@public
def about(request):
    """The one public page: what the portal is and how to get an account.
    It holds no personal data and names no case, agency contact or person."""
    return render(request, "home/about.html")


SEARCH_PAGE_SIZE = 20


def _searchable_pages(request):
    """Live guidance, agreements and meeting resources, without any section
    whose view restriction this request does not meet."""
    from wagtail.models import Page

    from agreements.models import AgreementPage

    from .models import GuidancePage, MeetingResourcesPage
    from .selectors import pages_open_to

    pages = Page.objects.live().type(GuidancePage, AgreementPage, MeetingResourcesPage)
    return pages_open_to(request, pages)


def search(request):
    """Search guidance, agreements and meeting resources; coordinators also
    find referrals by reference or a person's name. Results come only from
    what the person may open (the selectors and view restrictions)."""
    from referrals.selectors import referrals_matching

    query = request.GET.get("q", "").strip()[:200]
    pages, referrals, total = None, [], 0
    if query:
        results = _searchable_pages(request).search(query)
        pages = Paginator(results, SEARCH_PAGE_SIZE).get_page(request.GET.get("page"))
        referrals = list(
            referrals_matching(request.user, query).prefetch_related("people")[:20]
        )
        total = pages.paginator.count + len(referrals)
        audit_record(
            action=HomeAction.SEARCH,
            request=request,
            # Coordinators search people by name: who looked for whom is kept.
            detail={"query": query, "referrals": [r.reference for r in referrals]}
            if referrals
            else {"results": total},
        )
    return render(
        request,
        "home/search.html",
        {
            "query": query,
            "pages": pages,
            "referrals": referrals,
            "total": total,
            "searches_cases": request.user.has_role(Role.COORDINATOR),
            "page_query": urlencode({"q": query}),
        },
    )
