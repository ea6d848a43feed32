"""The secret keys that sign the audit log, kept out of the database.

Each event's hash is an HMAC-SHA256 under the current key, and records the
key's id, so events signed before a rotation still verify under the old key.
A key's id is a check value computed from the key itself (as banks identify
keys): operators never assign ids, so an id can never name the wrong key, and
it tells an attacker nothing the HMACs in the table do not. See docs/audit.md.
"""

import functools
import hashlib
import hmac
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_ID_LENGTH = 16


@dataclass(frozen=True)
class AuditKey:
    id: str
    secret: bytes = field(repr=False)

    def sign(self, message: bytes) -> str:
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Keyring:
    current: AuditKey
    by_id: dict[str, AuditKey]


def key_id_of(secret: bytes) -> str:
    return hmac.new(secret, b"audit key id", hashlib.sha256).hexdigest()[:KEY_ID_LENGTH]


def keyring() -> Keyring:
    """The current key and every retired one still needed to verify old events."""
    return _keyring(settings.AUDIT_HMAC_KEY, tuple(settings.AUDIT_HMAC_OLD_KEYS))


def signing_key() -> AuditKey:
    return keyring().current


def key_named(key_id: str) -> AuditKey | None:
    return keyring().by_id.get(key_id)


# Cached on the settings' values, so an append costs one HMAC and no parsing,
# and a changed setting (a test, a rotation) is picked up at once.
@functools.lru_cache(maxsize=8)
def _keyring(current: str, old: tuple[str, ...]) -> Keyring:
    if not current:
        raise ImproperlyConfigured(
            "AUDIT_HMAC_KEY is empty: set DJANGO_AUDIT_HMAC_KEY (docs/audit.md)."
        )
    keys = [_key(secret) for secret in (current, *old) if secret]
    return Keyring(current=keys[0], by_id={key.id: key for key in keys})


def _key(secret: str) -> AuditKey:
    raw = secret.encode()
    return AuditKey(id=key_id_of(raw), secret=raw)
