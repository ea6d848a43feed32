"""The one gate in front of every page, and the session and header rules.

Every view needs a logged-in user whose second factor is verified, unless the
view is marked with one of the decorators in ``portal.access``.
"""

import logging
import time
from contextvars import ContextVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control

from audit.audit_actions import AuthAction
from audit.services import audit_record
from portal.access import PASSWORD_ONLY, PUBLIC, access_level
from portal.session_keys import SESSION_SEEN_KEY

from . import session_time
from .services import user_has_device
from .signals import form_posted_after_timeout
from .views import admin_access_refused

logger = logging.getLogger(__name__)

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
            # Says why, when this request ended the session (SessionLifetime).
            ended = getattr(request, "session_ended", None)
            return redirect_to_login(
                request.get_full_path(), session_time.sign_in_url(ended)
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
    """End sessions idle too long or older than the absolute lifetime.

    A form posted after the idle timeout is offered to the apps that own
    forms before the session ends (``accounts.signals``), so a section being
    saved is kept; the sign-in page then says why, and what was kept.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            self._enforce(request)
        return self.get_response(request)

    def _enforce(self, request):
        if request.method == "GET" and request.path_info == reverse("accounts:session"):
            # The warning script asking how long is left: not activity, and
            # it must not end the session before the script saves the page.
            return
        now = int(time.time())
        session = request.session
        reason = session_time.ended_reason(session, now)
        if reason is not None:
            kept = None
            if request.method == "POST":
                kept = _keep_posted_form(request)
            detail = {"reason": reason}
            if kept:
                detail["kept"] = kept
            audit_record(
                action=AuthAction.SESSION_EXPIRED,
                request=request,
                obj=request.user,
                detail=detail,
            )
            session.flush()
            request.user = AnonymousUser()
            request.session_ended = session_time.SessionEnded(reason, kept)
            return
        seen = session.get(SESSION_SEEN_KEY, now)
        if now - seen >= session_time.stamp_granularity():
            session[SESSION_SEEN_KEY] = now


def _csrf_checked_view(request):
    """Stands for the view in the CSRF check below; never called."""


def _keep_posted_form(request) -> str | None:
    """Offer a form posted after the idle timeout to the apps that own it.

    Only for a session whose second factor was verified, and only if the
    post carries this browser's CSRF token: the expired session still names
    the person, and the token shows the page was theirs, so nothing can be
    slipped into their records from another site. Returns what was kept.
    """
    if not request.user.is_verified():
        return None
    csrf = CsrfViewMiddleware(lambda request: None)
    if csrf.process_view(request, _csrf_checked_view, (), {}) is not None:
        return None
    for receiver, answer in form_posted_after_timeout.send_robust(
        sender=SessionLifetimeMiddleware, request=request, user=request.user
    ):
        if isinstance(answer, Exception):
            logger.error(
                "Keeping a form posted after the timeout failed in %r",
                receiver,
                exc_info=answer,
            )
        elif answer:
            return answer
    return None


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
