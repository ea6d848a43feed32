"""Business rules for accounts: second-factor enrolment and checks, sessions."""

import secrets
import time

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.audit_actions import AuthAction
from audit.models import Outcome
from audit.receivers import SECOND_FACTOR_MARKER
from audit.services import audit_record

from ..models import (
    BackupCode,
    BackupCodeDevice,
    CodeCheck,
    User,
    throttle_failure_record,
)
from ..signals import second_factor_changed

# Backup codes avoid look-alike characters (0/o, 1/l/i) so they read aloud well.
BACKUP_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
BACKUP_CODE_LENGTH = 10  # about 49 bits each


def user_has_device(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_device_start(*, user: User) -> TOTPDevice:
    """An unconfirmed authenticator for the user to scan, reused until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Authenticator app", confirmed=False
        )
    return device


@transaction.atomic
def totp_device_confirm(
    *, request: HttpRequest, device: TOTPDevice, token: str
) -> list[str] | None:
    """Confirm the device with a code from it; return fresh backup codes.

    Returns None, and records nothing, when the code is wrong.
    """
    if totp_check(device=device, token=token) is not CodeCheck.VERIFIED:
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    codes = backup_codes_generate(user=device.user)
    audit_record(
        action=AuthAction.DEVICE_ENROLLED,
        request=request,
        actor=device.user,
        obj=device.user,
        detail={"device": "totp"},
    )
    second_factor_changed.send(sender=User, user=device.user, change="enrolled")
    _verify_session(request, device)
    return codes


def backup_codes_generate(*, user: User) -> list[str]:
    """Replace the user's backup codes; the plain codes are returned only once."""
    device, _ = BackupCodeDevice.objects.get_or_create(
        user=user, defaults={"name": "Backup codes", "confirmed": True}
    )
    device.codes.all().delete()
    codes = [_new_backup_code() for _ in range(settings.BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(
        BackupCode(device=device, code_hash=make_password(code)) for code in codes
    )
    return [format_backup_code(code) for code in codes]


def format_backup_code(code: str) -> str:
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _new_backup_code() -> str:
    while True:
        code = "".join(
            secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH)
        )
        # All-digit codes would be taken for authenticator codes; draw again.
        if not code.isdigit():
            return code


def totp_check(*, device: TOTPDevice, token: str) -> CodeCheck:
    """Check a code from the user's authenticator app, once only.

    django-otp's verify_token() reads the last used time step, compares, then
    saves: two sign-ins sending the same code at the same moment could both
    pass, and a failure saved in between could make a used code valid again.
    Here the time step is claimed by one conditional UPDATE, which exactly one
    of any number of simultaneous requests wins, on PostgreSQL and SQLite alike.
    """
    matched = _totp_matching_step(device, token)
    if matched is not None and matched[0] <= device.last_t:
        return CodeCheck.ALREADY_USED
    if not device.verify_is_allowed()[0]:
        return CodeCheck.WRONG
    if matched is None:
        throttle_failure_record(device)
        return CodeCheck.WRONG
    step, drift = matched
    if not getattr(settings, "OTP_TOTP_SYNC", True):
        drift = device.drift
    claimed = TOTPDevice.objects.filter(pk=device.pk, last_t__lt=step).update(
        last_t=step,
        drift=drift,
        throttling_failure_count=0,
        throttling_failure_timestamp=None,
        last_used_at=timezone.now(),
    )
    if not claimed:
        return CodeCheck.ALREADY_USED
    device.last_t, device.drift = step, drift
    return CodeCheck.VERIFIED


def _totp_matching_step(device: TOTPDevice, token: str) -> tuple[int, int] | None:
    """The time step and drift at which ``token`` is the device's code, if any,
    within the device's tolerance, whether or not it has been used."""
    try:
        value = int(token)
    except ValueError:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(value, device.tolerance):
        return None
    return totp.t(), totp.drift


def second_factor_verify(*, request: HttpRequest, user: User, token: str) -> CodeCheck:
    """Check a code against the user's authenticator, or their backup codes.

    On success the session is marked verified and its key rotated. Wrong codes
    are fed to django-axes so repeated wrong codes lock the account; a right
    code that has already been used is refused without counting as a guess.
    """
    token = (token or "").strip()
    # Backup codes always hold a letter, so digits alone are an app code.
    if token.isdigit():
        method = "totp"
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        result = totp_check(device=device, token=token) if device else None
    else:
        method = "backup_code"
        device = BackupCodeDevice.objects.filter(user=user, confirmed=True).first()
        result = device.check_token(token) if device else None
    if result is CodeCheck.VERIFIED:
        _verify_session(request, device)
        if method == "totp":
            audit_record(
                action=AuthAction.SECOND_FACTOR,
                request=request,
                actor=user,
                obj=user,
                detail={"method": "totp"},
            )
        else:
            audit_record(
                action=AuthAction.BACKUP_CODE_USED,
                request=request,
                actor=user,
                obj=user,
                detail={"remaining": device.remaining},
            )
        return result
    if result is CodeCheck.ALREADY_USED:
        audit_record(
            action=AuthAction.SECOND_FACTOR,
            request=request,
            actor=user,
            obj=user,
            outcome=Outcome.FAILURE,
            detail={"method": method, "reason": "code already used"},
        )
        return result
    audit_record(
        action=AuthAction.SECOND_FACTOR,
        request=request,
        actor=user,
        obj=user,
        outcome=Outcome.FAILURE,
    )
    user_login_failed.send(
        sender=__name__,
        credentials={"username": user.get_username(), SECOND_FACTOR_MARKER: True},
        request=request,
    )
    return CodeCheck.WRONG


def _verify_session(request: HttpRequest, device) -> None:
    otp_login(request, device)
    # django_otp.login() keeps the session key; rotate it against fixation.
    request.session.cycle_key()
    # Only a full sign-in clears failures, and only those against this
    # username: a password step, or someone else's sign-in from the same
    # address, must not (docs/security.md, "Lockout").
    AxesProxyHandler.reset_attempts(username=device.user.get_username())


@transaction.atomic
def devices_remove(*, user: User, request: HttpRequest | None = None) -> None:
    """Remove the user's second factors (an administrator's reset).

    They enrol again at their next login, and every session they have ends.
    """
    TOTPDevice.objects.filter(user=user).delete()
    BackupCodeDevice.objects.filter(user=user).delete()
    user_sessions_end(user=user)
    audit_record(action=AuthAction.DEVICE_REMOVED, request=request, obj=user, detail={})
    second_factor_changed.send(sender=User, user=user, change="removed")


@transaction.atomic
def user_sessions_end(*, user: User) -> None:
    """End every session the user has, on every server, whatever the backend."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


@transaction.atomic
def accounts_after_restore(*, reset_authenticators: bool = False) -> dict[str, int]:
    """Close what a restore from an older database dump reopens; returns counts.

    The dump predates codes people used since: their backup codes would work
    again, and every session in it would be live. So every unused backup code
    is spent (people get new ones from their account page), every
    authenticator's last used time step moves to now (no code shown before the
    restore is accepted), and every session ends. With
    ``reset_authenticators`` (a dump that may have been read by someone else:
    it holds the TOTP secrets) every second factor is removed and everyone
    enrols again at their next sign-in. Audited (docs/operations.md).
    """
    from django.contrib.sessions.models import Session

    now = timezone.now()
    counts = {
        "backup_codes_spent": BackupCode.objects.filter(used_at__isnull=True).update(
            used_at=now
        ),
        "users_signed_out": User.objects.update(session_epoch=F("session_epoch") + 1),
        "sessions_deleted": Session.objects.all().delete()[0],
        "authenticators_removed": 0,
        "authenticators_advanced": 0,
    }
    if reset_authenticators:
        counts["authenticators_removed"] = TOTPDevice.objects.all().delete()[0]
        BackupCodeDevice.objects.all().delete()
    else:
        for device in TOTPDevice.objects.all():
            step = int((time.time() - device.t0) // device.step)
            counts["authenticators_advanced"] += TOTPDevice.objects.filter(
                pk=device.pk, last_t__lt=step
            ).update(last_t=step)
    audit_record(
        action=AuthAction.AFTER_RESTORE,
        detail={**counts, "reset_authenticators": reset_authenticators},
    )
    return counts
