"""The one gate in front of every page, and the session and header rules.

Every view needs a logged-in user whose second factor is verified, unless the
view is marked with one of the decorators in ``portal.access``.
"""

import logging
import time
from contextvars import ContextVar
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.middleware import OTPMiddleware
from django_otp.models import Device

from audit.audit_actions import AuthAction
from audit.services import audit_record
from portal.access import PASSWORD_ONLY, PUBLIC, access_level
from portal.session_keys import SESSION_SEEN_KEY

from . import session_time
from .backends import DEVICE_CHECKED, WANTED_DEVICE
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


class SecondFactorDeviceMiddleware(OTPMiddleware):
    """django-otp's middleware (``request.user.otp_device``, ``is_verified``),
    with the check that the session's device still stands (it exists, is
    the person's and is confirmed) made in the query that reads the person
    (``accounts.backends``), instead of a query of its own on every request.
    The device itself is read only if something asks for its fields.

    A person read another way (another backend, or already read) is checked
    by django-otp's own code, as before.
    """

    def _verify_user_sync(self, request, user):
        persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
        wanted = _device_named(persistent_id) if persistent_id else None
        token = WANTED_DEVICE.set(wanted)
        try:
            self._init_user_fields(user)  # reads the person, if not yet read
        finally:
            WANTED_DEVICE.reset(token)
        if not user.is_authenticated:
            return user
        stands = getattr(user, DEVICE_CHECKED, None)
        if stands is None and persistent_id and wanted is None:
            stands = False  # names no device (django-otp's own lookup fails)
        elif stands is None:
            return super()._verify_user_sync(request, user)
        else:
            delattr(user, DEVICE_CHECKED)
        if stands:
            model, device_id = wanted
            user.otp_device = SimpleLazyObject(lambda: model.objects.get(pk=device_id))
        else:
            user.otp_device = None
            request.session.pop(DEVICE_ID_SESSION_KEY, None)
        return user


def _device_named(persistent_id: str) -> tuple[type, int] | None:
    """The device model and id a session's persistent id names
    ("otp_totp.totpdevice/12"), or None if it names none."""
    label, _, device_id = persistent_id.rpartition("/")
    try:
        model = apps.get_model(label)
        device_id = int(device_id)
    except (LookupError, ValueError):
        return None
    return (model, device_id) if issubclass(model, Device) else None


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
