"""The URL map. Apps are mounted by module name (include("home.urls")), so the
platform package imports no domain app; import-linter checks it (.importlinter)."""

from django.conf import settings
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from . import page_cache
from .health import health

# Wagtail's page view, behind the shared page cache (portal.page_cache), under
# the same name so that Wagtail's own links to it still resolve.
wagtail_patterns = [
    *(p for p in wagtail_urls.urlpatterns if p.name != "wagtail_serve"),
    re_path(wagtail_urls.serve_pattern, page_cache.serve, name="wagtail_serve"),
]

urlpatterns = [
    path("health/", health, name="health"),
    path("", include("home.urls")),
    path("", include("accounts.urls")),
    path("agreement-records/", include("agreements.urls")),
    path("referrals/", include("referrals.urls")),
    path("meetings/", include("meetings.urls")),
    path("files/", include("documents.urls")),
    path("incidents/", include("incidents.urls")),
    path("rights/", include("rights.urls")),
    path("board/", include("board.urls")),
    path("notices/", include("notices.urls")),
    path("partners/", include("partners.urls")),
    # Wagtail's own sign-in and sign-out would bypass our second factor.
    path("admin/", include("accounts.admin_urls")),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # Wagtail serves the page tree last, so it never shadows the routes above.
    path("", include(wagtail_patterns)),
]

handler404 = "portal.errors.page_not_found"
handler500 = "portal.errors.server_error"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns = staticfiles_urlpatterns() + urlpatterns
