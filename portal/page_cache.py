"""One rendering of a reading page, shared by everyone who would see the same.

Guidance, agreement and meeting-resources pages are read far more often than
they change, and everyone with the same roles at the same organisation sees
the same page. The first such reader's page is kept in the shared cache
(Redis in production) and served to the next without routing or rendering.

What differs between those readers is cut out before the page is kept and
filled in for each: the name and organisation in the header, the CSRF token
and the CSP nonce. A page is kept only when:

- it is a GET without a query string, for a signed-in, verified person;
- the page type opts in (``shared_page_cache = True``) and has no password
  restriction; a page that differs for each person (the home page, with its
  panels) also sets ``page_cache_personal = True`` and is kept for that person
  alone, for a minute;
- no message was shown on it, and none is waiting to be shown.

Any change to the portal's data, pages, groups or page privacy outdates every
kept page (``portal.freshness``); kept pages also expire after a few minutes.

Page privacy is Wagtail's, checked in its ``serve``, which a kept page skips.
So before answering from the cache, the page's privacy as it stands now is
checked for this request (``_still_served``): the page must still be live and
every view restriction on it or on a page above it must accept the request,
by Wagtail's own ``get_view_restrictions`` and ``accept_request``. Otherwise
the request goes to Wagtail, which refuses it (or asks for the password) as
it would without the cache. Group and login restrictions do not stop a page
being kept: everyone under one key is alike in what they decide (signed in,
administrator or not, the same groups; ``freshness.audience``), and the check
runs for each reader anyway (docs/caching.md).
"""

import hashlib
import re
from dataclasses import dataclass

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.db.models.functions import Length, Substr
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from wagtail import views as wagtail_views
from wagtail.models import Page, PageViewRestriction

from . import freshness

SECONDS = 300
PERSONAL_SECONDS = 60
# Stand-ins for each reader's own parts; none can occur in escaped page text.
IDENTITY = "<!--portal:identity-->"
CSRF = "<!--portal:csrf-->"
NONCE = "<!--portal:nonce-->"
_CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass(frozen=True)
class Kept:
    """A kept page: its HTML with each reader's parts cut out, and which page
    it is, so that the page's privacy can be checked again on each answer."""

    page_id: int
    html: str


def serve(request, path):
    """Wagtail's page view, with the shared cache in front of it."""
    keys = _keys(request, path)
    if keys is not None:
        found = cache.get_many(keys)
        for key in keys:
            kept = found.get(key)
            if isinstance(kept, Kept):
                if _still_served(request, kept.page_id):
                    return _filled(request, kept.html)
                break  # Wagtail decides, and a refusal is never kept
    response = wagtail_views.serve(request, path)
    if keys is not None and _keepable(request, response):
        html = _cut(request, response.content.decode())
        if html is not None:
            page = response.context_data["page"]
            kept = Kept(page.pk, html)
            if getattr(page, "page_cache_personal", False):
                cache.set(keys[1], kept, PERSONAL_SECONDS)
            else:
                cache.set(keys[0], kept, SECONDS)
    return response


def _still_served(request, page_id: int) -> bool:
    """Whether Wagtail would still serve the page to this request: it is live,
    and every view restriction on it or a page above it accepts the request.

    Why on every answer, when restriction and group changes already outdate
    the cache (``portal.freshness``): a change that sends no signal (a bulk
    update, a raw insert, another tool writing to the database) outdates
    nothing, and a kept page must still never reach someone the page's
    privacy refuses.

    Why read the restrictions as they are now, rather than keep the ones the
    page had in the entry: a restriction added since, on the page or on any
    page above it, or a move under a restricted page, would not be in the
    entry. And why keep restricted pages at all: finding out that an open
    page has become restricted takes these same queries, so refusing to keep
    restricted pages would save nothing and slow coordinators' pages.

    Wagtail's own ``get_view_restrictions`` (ancestors and aliases included)
    and ``accept_request`` decide whenever there is anything to decide, so
    the rule is not copied here. The common case, a live page that is not an
    alias with no restriction on it or above it, is one query; otherwise
    three more small indexed queries (the page's ancestors, their
    restrictions, and the groups when there is a group restriction;
    docs/caching.md). A
    password restriction always goes to Wagtail, which asks for the password
    (or serves the page) and never keeps it.
    """
    # One query answers the common case: the page is live, is not an alias,
    # and no restriction stands on it or on any page above it (a restriction
    # on a page covers the pages whose path starts with that page's path).
    # Any restriction, or an alias, and Wagtail's own rules decide below.
    page = (
        Page.objects.filter(pk=page_id, live=True)
        .annotate(
            guarded=Exists(
                PageViewRestriction.objects.filter(
                    page__path=Substr(OuterRef("path"), 1, Length("page__path"))
                )
            )
        )
        .only("path", "alias_of")
        .first()
    )
    if page is None:
        return False  # unpublished or deleted: Wagtail answers 404
    if not page.guarded and page.alias_of_id is None:
        return True
    restrictions = page.get_view_restrictions().prefetch_related("groups")
    return all(
        restriction.restriction_type != PageViewRestriction.PASSWORD
        and restriction.accept_request(request)
        for restriction in restrictions
    )


def _keys(request, path) -> tuple[str, str] | None:
    """The key a page shared by everyone alike is kept under, and the key a
    personal page (the home page) is kept under for this person only."""
    user = request.user
    if (
        request.method != "GET"
        or request.GET
        or not user.is_authenticated
        or not user.is_verified()
        or _messages_waiting(request)
    ):
        return None
    who = freshness.audience(user)
    where = hashlib.sha256(f"{request.get_host()}{path}".encode()).hexdigest()
    today = timezone.localdate()  # "review overdue" and due dates move daily
    # The home page marks files nobody at the organisation has opened yet.
    portal, openings = freshness.tokens(freshness.PORTAL, freshness.OPENINGS)
    shared = ":".join(map(str, ["page", portal, today, where, *who]))
    return shared, f"{shared}:{openings}:person-{user.pk}"


def _messages_waiting(request) -> bool:
    storage = get_messages(request)
    return bool(storage._queued_messages or storage._loaded_messages)


def _keepable(request, response) -> bool:
    if response.status_code != 200 or not isinstance(response, SimpleTemplateResponse):
        return False
    page = (response.context_data or {}).get("page")
    if not getattr(page, "shared_page_cache", False):
        return False
    restrictions = page.get_view_restrictions()
    if any(r.restriction_type == PageViewRestriction.PASSWORD for r in restrictions):
        return False
    response.render()
    return not get_messages(request).used


def _identity(request) -> str:
    # With the request, so the context processors give this reader's own
    # parts too (the unread count beside "What's new").
    return render_to_string(
        "includes/identity.html", {"user": request.user}, request=request
    )


def _cut(request, html: str) -> str | None:
    identity = _identity(request)
    if html.count(identity) != 1:
        return None
    html = csrf_cut(html.replace(identity, IDENTITY))
    nonce = getattr(request, "_csp_nonce", None)
    if nonce:
        html = html.replace(f'nonce="{nonce}"', f'nonce="{NONCE}"')
    return html


def csrf_cut(html: str) -> str:
    """``html`` with its forms' CSRF token cut out, to be kept and shared:
    a token is the reader's own."""
    for token in set(_CSRF_VALUE.findall(html)):
        html = html.replace(token, CSRF)
    return html


def csrf_filled(request, html: str) -> str:
    """Kept ``html`` (``csrf_cut``) with this reader's CSRF token filled in."""
    return html.replace(CSRF, get_token(request)) if CSRF in html else html


def _filled(request, kept: str) -> HttpResponse:
    html = csrf_filled(request, kept.replace(IDENTITY, _identity(request), 1))
    if NONCE in html:
        html = html.replace(NONCE, str(request.csp_nonce))
    return HttpResponse(html)
