"""Local development: the embedded defaults (SQLite, local files, console email)."""

import hashlib

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env.str(
    "DJANGO_SECRET_KEY", default="dev-only-insecure-key-never-use-in-production"
)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
# Derived from the secret key when not given, so a local install needs no setup;
# production requires a key of its own (docs/audit.md).
AUDIT_HMAC_KEY = (
    env.str("DJANGO_AUDIT_HMAC_KEY", default="")
    or hashlib.sha256(f"audit-hmac-key:{SECRET_KEY}".encode()).hexdigest()
)
# A new audit detail key must be declared free of personal data (audit.privacy).
AUDIT_DETAIL_STRICT = True

# Plain http on localhost: no HTTPS redirect, no Secure-only cookies.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
SECURE_HSTS_SECONDS = 0

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DEMO_DATA_ALLOWED = True
DEMO_PASSWORD = env.str("DJANGO_DEMO_PASSWORD", default="cmarac-demo-2026")
