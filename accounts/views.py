"""Sign in, second factor, enrolment, account, sign out and password views."""

import io
from base64 import b32encode
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.audit_actions import AuthAction
from audit.models import Outcome
from audit.services import audit_record
from portal.access import password_only, public
from portal.forms import RefusedWithBadRequest, refusal_status

from . import session_time
from .forms import CodeForm, EnrolForm, QueuedPasswordResetForm, SignInForm
from .models import BackupCodeDevice, CodeCheck, User
from .services import (
    backup_codes_generate,
    second_factor_verify,
    totp_device_confirm,
    totp_device_start,
    user_has_device,
)
from .services.oidc import providers_offered
from .signals import second_factor_changed


def _next_url(request, default="/"):
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(
        REDIRECT_FIELD_NAME
    )
    # A path on this site only: redirect() would read anything else, such as
    # "?next=9", as the name of a view and fail looking it up.
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate,
            allowed_hosts={request.get_host()},
            require_https=request.is_secure(),
        )
    ):
        return candidate
    return default


def _with_next(url_name, next_url):
    if next_url and next_url != "/":
        return f"{reverse(url_name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"
    return reverse(url_name)


class SignInView(RefusedWithBadRequest, auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = SignInForm
    redirect_authenticated_user = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Why the person was signed out, from a value only the server signs.
        context["signed_out"] = session_time.signed_out_notice(
            self.request.GET.get(session_time.NOTICE_PARAMETER)
        )
        # Organisations whose staff may sign in with their own account there.
        context["providers"] = providers_offered()
        return context

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.user.is_verified():
            return redirect(_next_url(request))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        super().form_valid(form)
        user = form.get_user()
        target = "accounts:verify" if user_has_device(user) else "accounts:enrol"
        return HttpResponseRedirect(_with_next(target, _next_url(self.request)))


sign_in = public(SignInView.as_view())


@password_only
def verify(request):
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not user_has_device(user):
        return redirect(_with_next("accounts:enrol", _next_url(request)))
    credentials = {"username": user.get_username()}
    if AxesProxyHandler.is_locked(request, credentials):
        return _end_locked_session(request, credentials)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = second_factor_verify(
            request=request, user=user, token=form.cleaned_data["code"]
        )
        if result is CodeCheck.VERIFIED:
            return redirect(_next_url(request))
        if result is CodeCheck.ALREADY_USED:
            # Often the same person a moment ago (a second tab, a double
            # submit): not a guess, so no lockout and no ended sessions.
            form.add_error("code", CODE_ALREADY_USED_MESSAGE)
        elif getattr(request, "axes_locked_out", False):
            return _end_locked_session(request, credentials)
        else:
            form.add_error("code", _wrong_code_message(user))
    return render(
        request,
        "accounts/verify.html",
        {"form": form, "next": _next_url(request, "")},
        status=refusal_status(form),
    )


CODE_ALREADY_USED_MESSAGE = (
    "That code has already been used. Each code works once: wait for your app "
    "to show a new code, or enter a backup code you have not used."
)


def _wrong_code_message(user) -> str:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None and not device.verify_is_allowed()[0]:
        # django-otp waits longer after each wrong code; say so, or a right
        # code typed too soon looks wrong too.
        return (
            "That code did not work. Wait a few seconds before you try again, "
            "then enter the newest code from your app."
        )
    return (
        "That code did not work. Check your app shows the right account, "
        "wait for a new code and try again."
    )


def _end_locked_session(request, credentials):
    auth_logout(request)
    return locked_out(request, None, credentials)


@password_only
def enrol(request):
    """Set up an authenticator app: QR code, manual key, confirm, backup codes."""
    user = request.user
    if user_has_device(user) and not user.is_verified():
        # A password alone must never be enough to replace someone's device.
        return redirect(_with_next("accounts:verify", _next_url(request)))
    device = totp_device_start(user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = totp_device_confirm(
            request=request, device=device, token=form.cleaned_data["code"]
        )
        if codes is not None:
            return render(
                request,
                "accounts/backup_codes.html",
                {"codes": codes, "next": _next_url(request), "first_time": True},
            )
        form.add_error(
            "code",
            "That code did not work. Check the time on your phone is right "
            "and enter the newest code.",
        )
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr_svg": _qr_svg(device.config_url),
            "secret": _spaced_secret(device),
            "next": _next_url(request, ""),
        },
        status=refusal_status(form),
    )


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = svg[svg.index("<svg") :]
    # The SVG is built by qrcode from our own data, never from user input.
    return mark_safe(  # noqa: S308
        svg.replace(
            "<svg ",
            '<svg role="img" aria-label="QR code for your authenticator app" ',
            1,
        )
    )


def _spaced_secret(device) -> str:
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def account(request):
    user = request.user
    backup = BackupCodeDevice.objects.filter(user=user).first()
    return render(
        request,
        "accounts/account.html",
        {"backup_remaining": backup.remaining if backup else 0},
    )


@require_POST
def backup_codes_new(request):
    codes = backup_codes_generate(user=request.user)
    audit_record(
        action=AuthAction.BACKUP_CODES_REPLACED, request=request, obj=request.user
    )
    second_factor_changed.send(
        sender=User, user=request.user, change="backup_codes_renewed"
    )
    return render(
        request,
        "accounts/backup_codes.html",
        {"codes": codes, "next": reverse("accounts:account"), "first_time": False},
    )


@public
@require_http_methods(["GET", "POST"])
def session_time_left(request):
    """How long the session has left, for the warning shown before the idle
    sign-out; a POST counts as activity and extends it ("Stay signed in").

    Public to the gate so that a script gets JSON, not a sign-in page: 401
    when there is no session (with where to sign in, and why, if this request
    ended it), 403 before the second factor. It reads and returns no
    personal data. The GET neither extends nor ends the session
    (accounts.middleware.SessionLifetimeMiddleware).
    """
    user = request.user
    if not user.is_authenticated:
        ended = getattr(request, "session_ended", None)
        return JsonResponse(
            {"signed_in": False, "sign_in_url": session_time.sign_in_url(ended)},
            status=401,
        )
    if not user.is_verified():
        return JsonResponse({"signed_in": True, "verified": False}, status=403)
    if request.method == "POST":
        session_time.session_extend(request.session)
    return JsonResponse(
        {"signed_in": True, "seconds_left": session_time.seconds_left(request.session)}
    )


@password_only
def sign_out(request):
    if request.method == "POST":
        # user_logged_out ends the user's other sessions too (accounts.receivers).
        auth_logout(request)
        messages.success(request, "You have signed out.")
        return redirect("accounts:login")
    return render(request, "accounts/logout.html")


class PasswordChangeView(RefusedWithBadRequest, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:account")

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        _style_password_fields(form)
        return form

    def form_valid(self, form):
        # Saving the new password changes the session hash, which ends every
        # other session; Django keeps this one (update_session_auth_hash).
        response = super().form_valid(form)
        audit_record(
            action=AuthAction.PASSWORD_CHANGED,
            request=self.request,
            obj=self.request.user,
        )
        messages.success(
            self.request,
            "Your password has been changed. You have been signed out everywhere else.",
        )
        return response


password_change = PasswordChangeView.as_view()


def _style_password_fields(form):
    for name, field in form.fields.items():
        field.widget.attrs.setdefault("class", "govuk-input govuk-!-width-one-half")
        autocomplete = "current-password" if "old" in name else "new-password"
        field.widget.attrs.setdefault("autocomplete", autocomplete)


class PasswordResetView(RefusedWithBadRequest, auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["email"].widget.attrs.update(
            {"class": "govuk-input govuk-!-width-one-half", "autocomplete": "email"}
        )
        form.fields["email"].error_messages.update(
            {
                "required": "Enter your work email address",
                "invalid": "Enter an email address like name@example.org",
            }
        )
        return form

    def form_valid(self, form):
        # The same answer whether or not the address is known, so nobody can
        # find out who has an account; the audit event names no address.
        audit_record(action=AuthAction.PASSWORD_RESET_REQUESTED, request=self.request)
        return super().form_valid(form)


class PasswordResetConfirmView(
    RefusedWithBadRequest, auth_views.PasswordResetConfirmView
):
    template_name = "accounts/password_reset_confirm.html"
    # The reset signs the user in with their password only: the gate then asks
    # for their second factor before anything else.
    post_reset_login = True
    post_reset_login_backend = "accounts.backends.PartnerBackend"
    success_url = reverse_lazy("accounts:verify")

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        _style_password_fields(form)
        return form

    def form_valid(self, form):
        user = form.user
        response = super().form_valid(form)
        audit_record(
            action=AuthAction.PASSWORD_RESET, request=self.request, obj=user, actor=user
        )
        return response


password_reset = public(PasswordResetView.as_view())
password_reset_done = public(
    auth_views.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_done.html"
    )
)
password_reset_confirm = public(PasswordResetConfirmView.as_view())


def locked_out(request, response=None, credentials=None, *args, **kwargs):
    """django-axes' lockout page (AXES_LOCKOUT_CALLABLE), in our own words."""
    cool_off = get_cool_off(request)
    minutes = int(cool_off.total_seconds() // 60) if cool_off else None
    return render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes},
        status=429,
    )


locked_out = public(locked_out)


def admin_access_refused(request):
    """Shown by the second-factor gate (accounts.middleware) to a signed-in,
    verified person who may not use the Wagtail admin."""
    audit_record(
        action=AuthAction.ADMIN_REFUSED,
        request=request,
        obj=request.user,
        outcome=Outcome.DENIED,
        detail={"path": request.path_info},
    )
    return render(request, "accounts/admin_refused.html", status=403)


def admin_login_redirect(request):
    """Wagtail's own login would skip our second factor: send people to ours."""
    return redirect(_with_next("accounts:login", _next_url(request, "/admin/")))


admin_login_redirect = public(admin_login_redirect)
