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
  restriction (login and group restrictions follow the roles in the key);
  a page that differs for each person (the home page, with its panels) also
  sets ``page_cache_personal = True`` and is kept for that person alone, for
  a minute;
- no message was shown on it, and none is waiting to be shown.

Any change to the portal's data or pages outdates every kept page
(``portal.freshness``); kept pages also expire after a few minutes.
"""

import hashlib
import re

from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from wagtail import views as wagtail_views
from wagtail.models import PageViewRestriction

from . import freshness

SECONDS = 300
PERSONAL_SECONDS = 60
# Stand-ins for each reader's own parts; none can occur in escaped page text.
IDENTITY = "<!--portal:identity-->"
CSRF = "<!--portal:csrf-->"
NONCE = "<!--portal:nonce-->"
_CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def serve(request, path):
    """Wagtail's page view, with the shared cache in front of it."""
    keys = _keys(request, path)
    if keys is not None:
        found = cache.get_many(keys)
        for key in keys:
            if key in found:
                return _filled(request, found[key])
    response = wagtail_views.serve(request, path)
    if keys is not None and _keepable(request, response):
        kept = _cut(request, response.content.decode())
        if kept is not None:
            page = response.context_data["page"]
            if getattr(page, "page_cache_personal", False):
                cache.set(keys[1], kept, PERSONAL_SECONDS)
            else:
                cache.set(keys[0], kept, SECONDS)
    return response


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
    shared = ":".join(map(str, ["page", freshness.token(), today, where, *who]))
    # The home page marks files nobody at the organisation has opened yet.
    openings = freshness.token(freshness.OPENINGS)
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
    return render_to_string("includes/identity.html", {"user": request.user})


def _cut(request, html: str) -> str | None:
    identity = _identity(request)
    if html.count(identity) != 1:
        return None
    html = html.replace(identity, IDENTITY)
    for token in set(_CSRF_VALUE.findall(html)):
        html = html.replace(token, CSRF)
    nonce = getattr(request, "_csp_nonce", None)
    if nonce:
        html = html.replace(f'nonce="{nonce}"', f'nonce="{NONCE}"')
    return html


def _filled(request, kept: str) -> HttpResponse:
    html = kept.replace(IDENTITY, _identity(request), 1)
    if CSRF in html:
        html = html.replace(CSRF, get_token(request))
    if NONCE in html:
        html = html.replace(NONCE, str(request.csp_nonce))
    return HttpResponse(html)
