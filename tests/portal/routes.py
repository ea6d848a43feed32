"""Every route in the URL resolver, with a sample URL that resolves back to it.

The permission ladders walk this list, so a view added later is covered
without anyone remembering to add a test.
"""

import inspect
import itertools
import re
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from wagtail.admin.views.generic.base import BaseListingView
from wagtail.admin.viewsets.pages import page_viewset_registry
from wagtail.models import Page
from wagtail_modeladmin.options import ModelAdmin
from wagtail_modeladmin.views import IndexView as ModelAdminIndexView

from accounts.middleware import ALWAYS_OPEN_URL_NAMES
from portal.access import access_level

# Values tried for each path parameter until the URL resolves to the same view.
SAMPLES = ["1", "x", "a/b", "x/", "2f", "00000000-0000-4000-8000-000000000000"]
REGEX_GROUP = re.compile(r"\((?:\?P<\w+>)?[^()]*\)[?*+]?")


@dataclass(frozen=True)
class Route:
    pattern: str
    url: str
    name: str
    callback: object

    @property
    def level(self) -> str:
        if self.name in ALWAYS_OPEN_URL_NAMES:
            return "public"
        return access_level(self.callback)

    def __str__(self):
        return f"{self.name or self.pattern} ({self.url})"

    def url_with(self, value: str) -> str:
        """The route's address with every path parameter set to ``value``
        (percent-encoded), whether or not the route would accept it."""
        template = _template(self.pattern)
        slots = [quote(value, safe="")] * template.count("{}")
        return "/" + template.format(*slots).lstrip("/")

    @property
    def model_admin(self) -> ModelAdmin | None:
        """The wagtail-modeladmin ModelAdmin whose screen this is, if any."""
        owner = getattr(inspect.unwrap(self.callback), "__self__", None)
        return owner if isinstance(owner, ModelAdmin) else None

    @property
    def list_view_class(self) -> type | None:
        """The admin list view behind the route: a wagtail-modeladmin index,
        or any Wagtail listing (viewsets, reports, the page explorer)."""
        view = inspect.unwrap(self.callback)
        if self.model_admin and view.__name__ == "index_view":
            return self.model_admin.index_view_class
        if view.__name__ == "view_router":
            # Page routes go through a router that picks the page type's
            # viewset; the view it routes to is named in its closure.
            view_name = inspect.getclosurevars(view).nonlocals["view_name"]
            view = page_viewset_registry.get_by_type(Page).get_view_by_name(view_name)
        view_class = getattr(view, "view_class", None)
        if view_class and issubclass(view_class, BaseListingView | ModelAdminIndexView):
            return view_class
        return None


# Patterns whose nested groups defeat the sampler, with URLs to try instead.
EXTRA_CANDIDATES = ["/", "/x/", "/x/y/"]


def all_routes() -> tuple[list[Route], list[str]]:
    """Routes with a working sample URL, and the patterns none could be made for.

    A pattern that an earlier route shadows (its literal URL resolves to a
    different view) is unreachable, so it is left out of both lists.
    """
    routes, unsampled = [], []
    for pattern, callback, name in _walk(get_resolver().url_patterns):
        url = _sample_url(pattern, callback)
        if url is not None:
            routes.append(Route(pattern, url, name, callback))
        elif not _shadowed(pattern):
            unsampled.append(pattern)
    return routes, unsampled


def _shadowed(pattern: str) -> bool:
    if "<" in pattern or "(" in pattern:
        return False
    try:
        resolve("/" + pattern.lstrip("^").rstrip("$"))
    except Resolver404:
        return False
    return True


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            child_ns = f"{namespace}:{ns}".strip(":") if ns else namespace
            yield from _walk(entry.url_patterns, text, child_ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}".strip(":") if entry.name else ""
            yield text, entry.callback, name


def _template(pattern: str) -> str:
    """The pattern with each path parameter as ``{}``."""
    template = re.sub(r"<(?:\w+:)?\w+>", "{}", pattern)
    template = template.replace("^", "").replace("$", "").replace("\\", "")
    return REGEX_GROUP.sub("{}", template)


def _sample_url(pattern: str, callback) -> str | None:
    template = _template(pattern)
    slots = template.count("{}")
    candidates = [
        "/" + template.format(*values).lstrip("/")
        for values in itertools.product(SAMPLES, repeat=slots)
    ]
    for url in [*candidates, *EXTRA_CANDIDATES]:
        try:
            match = resolve(url)
        except (Resolver404, ValueError):
            continue
        if match.func is callback or _same_view(match.func, callback):
            return url
    return None


def _same_view(a, b) -> bool:
    return getattr(a, "view_class", a) is getattr(b, "view_class", b) and getattr(
        a, "view_initkwargs", None
    ) == getattr(b, "view_initkwargs", None)


# Routes whose sample URL finds a record and renders it as a PDF with WeasyPrint
# (a data migration's agreement version; the visibility tests' referral).
PDF_ROUTES = {"agreements:pdf", "agreements:receipt_pdf", "referrals:pdf"}


def route_params(routes: list[Route]) -> list:
    """``routes`` for ``parametrize``, named as before, with the PDF routes
    marked slow so that `make test-fast` leaves them out."""
    return [
        pytest.param(
            route,
            id=str(route),
            marks=[pytest.mark.slow] if route.name in PDF_ROUTES else [],
        )
        for route in routes
    ]
