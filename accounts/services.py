"""Business rules for accounts: second-factor enrolment and checks, sessions."""

import secrets

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import Outcome
from audit.receivers import SECOND_FACTOR_MARKER
from audit.services import audit_record

from .models import BackupCode, BackupCodeDevice, User

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
    if not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    codes = backup_codes_generate(user=device.user)
    audit_record(
        action="auth.device_enrolled",
        request=request,
        actor=device.user,
        obj=device.user,
        detail={"device": "totp"},
    )
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


def second_factor_verify(*, request: HttpRequest, user: User, token: str) -> bool:
    """Check a code against the user's authenticator, then their backup codes.

    On success the session is marked verified and its key rotated. Failures
    are fed to django-axes so repeated wrong codes lock the account.
    """
    token = (token or "").strip()
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if totp is not None and token.isdigit() and totp.verify_token(token):
        _verify_session(request, totp)
        audit_record(
            action="auth.second_factor",
            request=request,
            actor=user,
            obj=user,
            detail={"method": "totp"},
        )
        return True
    backup = BackupCodeDevice.objects.filter(user=user, confirmed=True).first()
    if backup is not None and not token.isdigit() and backup.verify_token(token):
        _verify_session(request, backup)
        audit_record(
            action="auth.backup_code_used",
            request=request,
            actor=user,
            obj=user,
            detail={"remaining": backup.remaining},
        )
        return True
    audit_record(
        action="auth.second_factor",
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
    return False


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
    audit_record(action="auth.device_removed", request=request, obj=user, detail={})


def user_sessions_end(*, user: User) -> None:
    """End every session the user has, on every server, whatever the backend."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
