"""Notices for what lower apps announce by signal (they cannot import this
app): a change to how a person signs in."""

import uuid

from django.dispatch import receiver
from django.urls import reverse

from accounts.signals import second_factor_changed

from .models import NoticeKind
from .services import notices_record

_SECURITY_TITLES = {
    "enrolled": "A new authenticator app was set up for your account",
    "removed": "An administrator reset how you sign in",
    "backup_codes_renewed": "New backup codes were made for your account",
}


@receiver(second_factor_changed, dispatch_uid="notices-second-factor-changed")
def second_factor_notice(sender, *, user, change: str, **kwargs) -> None:
    title = _SECURITY_TITLES[change]
    notices_record(
        kind=NoticeKind.SECURITY,
        recipients=[user],
        title=title,
        link=reverse("accounts:account"),
        # Each change is its own event: every one is worth telling.
        event=f"security-{user.pk}-{change}-{uuid.uuid4().hex}",
        email_body=(
            f"{title}.\n\nIf this was you, there is nothing to do. If it was "
            "not, tell your organisation's portal administrator or a CMARAC "
            "coordinator straight away: someone else may be trying to sign in "
            "as you.\n"
        ),
    )
