"""Production: PostgreSQL, Redis, S3 and SMTP, all from the environment.

The process refuses to start without a secret key, the audit log's key, allowed
hosts, a database and a virus scanner (or DJANGO_CLAMAV_DISABLED=true, set on
purpose).
"""

from django.core.exceptions import ImproperlyConfigured

from portal.s3 import s3_options

from .base import *  # noqa: F403
from .base import (
    CACHES,
    CLAMAV_ADDRESS,
    CLAMAV_DISABLED,
    DATABASES,
    INSTALLED_APPS,
    POSTGRES_TIMEOUT_OPTIONS,
    REDIS_CONNECT_TIMEOUT,
    REDIS_TIMEOUT,
    S3_CONNECT_TIMEOUT,
    S3_MAX_ATTEMPTS,
    S3_READ_TIMEOUT,
    env,
)

DEBUG = False
SECRET_KEY = env.str("DJANGO_SECRET_KEY")  # no default: refuse to start without it
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to 50 or more characters."
    )
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name the portal's host.")
# Signs the audit log; kept apart from the database and the secret key, so
# whoever can write the one cannot forge the log (docs/audit.md).
AUDIT_HMAC_KEY = env.str("DJANGO_AUDIT_HMAC_KEY")  # no default: refuse to start
if len(AUDIT_HMAC_KEY) < 32 or AUDIT_HMAC_KEY == SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_AUDIT_HMAC_KEY must be set to 32 or more random characters, "
        "different from DJANGO_SECRET_KEY."
    )
# Links in emails and PDFs are built from this, so it must be the real address.
WAGTAILADMIN_BASE_URL = env.str("DJANGO_BASE_URL").rstrip("/")
if not WAGTAILADMIN_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured(
        "DJANGO_BASE_URL must be the portal's https address, like "
        "https://portal.example.org"
    )

# Every upload is virus scanned, or scanning is off because someone said so.
if not CLAMAV_ADDRESS.strip() and not CLAMAV_DISABLED:
    raise ImproperlyConfigured(
        "DJANGO_CLAMAV_ADDRESS must name the clamd that scans uploads, like "
        "127.0.0.1:3310. To run without virus scanning on purpose, set "
        "DJANGO_CLAMAV_DISABLED=true instead."
    )
if CLAMAV_ADDRESS.strip() and CLAMAV_DISABLED:
    raise ImproperlyConfigured(
        "Set DJANGO_CLAMAV_ADDRESS or DJANGO_CLAMAV_DISABLED=true, not both."
    )

DATABASES["default"] = env.db_url("DATABASE_URL")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(POSTGRES_TIMEOUT_OPTIONS)

# Redis for the cache, so app servers share it. Sessions live in the database
# with Redis in front (cached_db), so a Redis restart signs nobody out; while
# Redis is unreachable the portal works uncached (portal.redis_cache).
CACHES["default"] = {
    "BACKEND": "portal.redis_cache.ResilientRedisCache",
    "LOCATION": env.str("REDIS_URL"),
    "KEY_PREFIX": "portal",
    "OPTIONS": {
        "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
        "socket_timeout": REDIS_TIMEOUT,
    },
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Private S3 storage for uploaded files; static files are served by WhiteNoise.
# The options (private ACL, no overwrite, 60-second s3v4 links, SSE,
# timeouts and retry limits) live in portal.s3.s3_options so the moto tests
# exercise exactly these.
if env.str("DJANGO_S3_BUCKET", default=""):
    INSTALLED_APPS = [*INSTALLED_APPS, "storages"]
    _private_bucket = s3_options(
        bucket=env.str("DJANGO_S3_BUCKET"),
        region=env.str("DJANGO_S3_REGION", default=None),
        endpoint_url=env.str("DJANGO_S3_ENDPOINT_URL", default=None),
        connect_timeout=S3_CONNECT_TIMEOUT,
        read_timeout=S3_READ_TIMEOUT,
        max_attempts=S3_MAX_ATTEMPTS,
    )
    STORAGES = {
        # Credentials: boto3's chain (AWS_ACCESS_KEY_ID, instance role).
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": _private_bucket,
        },
        "staticfiles": {
            "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        },
        # Audit checkpoints: the same private bucket, under their own prefix,
        # each a new object never replaced (docs/audit.md).
        "audit_checkpoints": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**_private_bucket, "location": "audit-checkpoints"},
        },
        # Sealed audit segments (manage.py audit_seal): their own prefix.
        "audit_segments": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {**_private_bucket, "location": "audit-segments"},
        },
    }
    AUDIT_CHECKPOINT_STORAGE = "audit_checkpoints"

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env.str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=True)

DEMO_DATA_ALLOWED = False
