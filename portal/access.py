"""Marks for the few views the second-factor gate lets through.

Everything else needs a verified second factor. The permission-ladder tests
read these marks from the URL resolver, so a new view is gated by default.
"""

PUBLIC = "public"  # anyone: login, password reset, health
PASSWORD_ONLY = "password_only"  # noqa: S105 (a level, not a password); signed in with a password: verify, enrol, logout
VERIFIED = "verified"

_ATTRIBUTE = "gate_access"


def public(view):
    setattr(view, _ATTRIBUTE, PUBLIC)
    return view


def password_only(view):
    setattr(view, _ATTRIBUTE, PASSWORD_ONLY)
    return view


def access_level(view) -> str:
    return getattr(view, _ATTRIBUTE, VERIFIED)
