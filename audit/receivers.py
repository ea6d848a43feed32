"""Audit events for Django's and django-axes' authentication signals.

Second-factor events are written by the verification view itself, which knows
which factor was used; it marks the failures it feeds to axes so they are not
also counted here as password failures.
"""

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import (
    user_logged_in,
    user_logged_out,
    user_login_failed,
)
from django.dispatch import receiver

from .audit_actions import AuthAction
from .models import Outcome
from .services import audit_record

SECOND_FACTOR_MARKER = "second_factor"


@receiver(user_logged_in, dispatch_uid="audit_login")
def record_login(sender, request, user, **kwargs):
    audit_record(action=AuthAction.LOGIN, request=request, actor=user, obj=user)


@receiver(user_logged_out, dispatch_uid="audit_logout")
def record_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=AuthAction.LOGOUT, request=request, actor=user, obj=user)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def record_login_failed(sender, credentials, request=None, **kwargs):
    if credentials.get(SECOND_FACTOR_MARKER):
        return
    user = _user_named(credentials.get("username"))
    # Refused because already locked out (axes counts no failure for those),
    # as against the wrong password that brought the lockout on.
    locked = bool(getattr(request, "axes_locked_out", False)) and (
        getattr(request, "axes_failures_since_start", None) is None
    )
    audit_record(
        action=AuthAction.LOGIN_FAILED,
        request=request,
        actor=user,
        obj=user,
        outcome=Outcome.DENIED if locked else Outcome.FAILURE,
        detail={"reason": "locked out" if locked else "wrong username or password"},
    )


@receiver(user_locked_out, dispatch_uid="audit_lockout")
def record_lockout(sender, request, username, ip_address, **kwargs):
    # axes signals again on each attempt made during a lockout; only the attempt
    # that crossed the limit has a fresh failure count.
    if getattr(request, "axes_failures_since_start", None) is None:
        return
    user = _user_named(username)
    audit_record(
        action=AuthAction.LOCKOUT,
        request=request,
        actor=user,
        obj=user,
        outcome=Outcome.DENIED,
    )


def _user_named(username):
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()
