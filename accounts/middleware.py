"""The one gate in front of every page, and the session and header rules.

Every view needs a logged-in user whose second factor is verified, unless the
view is marked with one of the decorators in ``portal.access``.
"""

import time
from contextvars import ContextVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control

from audit.services import audit_record
from portal.access import PASSWORD_ONLY, PUBLIC, access_level
from portal.session_keys import SESSION_SEEN_KEY, SESSION_STARTED_KEY

from .services import user_has_device
from .views import admin_access_refused

# Wagtail's own test for who may use its admin (wagtail.admin.auth).
ADMIN_ACCESS_PERMISSION = "wagtailadmin.access_admin"

# Wagtail's admin JavaScript fetches these on every admin page, the verify
# page included; they hold no data (docs/stack-notes.md). Matched by the route
# they resolve to, never by a path prefix, which let /admin/sprite/../anything
# through (docs/security.md, "The second-factor gate").
ALWAYS_OPEN_URL_NAMES = frozenset(
    {"wagtailadmin_sprite", "wagtailadmin_javascript_catalog"}
)


# The request being served, for code that Wagtail calls without one (signal
# receivers that record who published a page, for example).
current_request: ContextVar[HttpRequest | None] = ContextVar(
    "current_request", default=None
)


class SecondFactorGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        level = access_level(view_func)
        open_asset = request.resolver_match.view_name in ALWAYS_OPEN_URL_NAMES
        if level == PUBLIC or open_asset:
            return None
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(
                request.get_full_path(), reverse(settings.LOGIN_URL)
            )
        if level == PASSWORD_ONLY:
            return None
        if not user.is_verified():
            target = "accounts:verify" if user_has_device(user) else "accounts:enrol"
            query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
            return redirect(f"{reverse(target)}?{query}")
        in_admin = request.path_info.startswith(reverse("wagtailadmin_home"))
        if in_admin and not user.has_perm(ADMIN_ACCESS_PERMISSION):
            # Wagtail would send them to sign in, and signing in sends a
            # signed-in person straight back: a redirect loop. Say no instead.
            return admin_access_refused(request)
        return None


class SessionLifetimeMiddleware:
    """End sessions idle too long or older than the absolute lifetime."""

    # Refresh the last-seen stamp at most once a minute to spare session writes.
    SEEN_GRANULARITY = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self._enforce(request)
        return self.get_response(request)

    def _enforce(self, request):
        now = int(time.time())
        started = request.session.get(SESSION_STARTED_KEY, now)
        seen = request.session.get(SESSION_SEEN_KEY, now)
        idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
        absolute = settings.SESSION_ABSOLUTE_LIFETIME.total_seconds()
        if now - seen > idle or now - started > absolute:
            reason = "idle" if now - seen > idle else "absolute lifetime"
            audit_record(
                action="auth.session_expired",
                request=request,
                obj=request.user,
                detail={"reason": reason},
            )
            request.session.flush()
            request.user = AnonymousUser()
            return
        if now - seen >= self.SEEN_GRANULARITY:
            request.session[SESSION_SEEN_KEY] = now


class NoStoreForAuthenticatedMiddleware:
    """No browser or proxy may keep a copy of a page shown to a signed-in user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
        return response


class AdminContentSecurityPolicyMiddleware:
    """Give the Wagtail admin its own, looser, policy; portal pages keep theirs.

    Sits after django-csp's middleware in MIDDLEWARE so it sees the response first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path_info.startswith("/admin/"):
            response._csp_config = settings.ADMIN_CONTENT_SECURITY_POLICY["DIRECTIVES"]
        return response
