"""Verified sessions for the benchmarks, written straight into the store.

The load tests and in-process timings need people signed in with both
steps done, without driving the sign-in pages for each one. The session is
written through the configured engine (production's is ``cached_db``): one
written to another store would not be found, and every page would ask the
person to sign in.
"""

from importlib import import_module

from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def verified_session(user) -> str:
    """The key of a new session in which ``user`` passed the password and
    the second factor (an authenticator is made for them if they have none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session.update(
        {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": "accounts.backends.PartnerBackend",
            "_auth_user_hash": user.get_session_auth_hash(),
            DEVICE_ID_SESSION_KEY: device.persistent_id,
        }
    )
    session.create()
    return session.session_key
