"""Invitation links: a new account's holder chooses a password with one.

Django's reset tokens last PASSWORD_RESET_TIMEOUT (an hour here), too short
for an invitation read the next morning. These are signed with a timestamp
(django.core.signing) and carry a hash of the password and last sign-in, so a
link stops working once used, as a reset link does, and after
INVITATION_DAYS. https://docs.djangoproject.com/en/5.2/topics/signing/
"""

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "accounts.invitation"


class InvitationTokens:
    """The token generator interface Django's PasswordResetConfirmView uses."""

    def _state(self, user) -> str:
        last = user.last_login.replace(microsecond=0) if user.last_login else ""
        return salted_hmac(
            SALT, f"{user.pk}:{user.password}:{last}", algorithm="sha256"
        ).hexdigest()[:32]

    def make_token(self, user) -> str:
        return signing.dumps(self._state(user), salt=SALT, compress=False)

    def check_token(self, user, token) -> bool:
        if user is None or not token:
            return False
        try:
            state = signing.loads(
                token, salt=SALT, max_age=settings.INVITATION_DAYS * 24 * 3600
            )
        except signing.BadSignature:
            return False
        return constant_time_compare(state, self._state(user))


invitation_tokens = InvitationTokens()
