"""Test settings: fast hashing, in-memory cache, temporary files, immediate tasks."""

import os

from .dev import *  # noqa: F403
from .dev import BASE_DIR, DATABASES, env

# pytest-xdist runs the suite in several processes (gw0, gw1, ...), each with
# its own test database (pytest-django adds the suffix) and its own files here.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Uploaded files go to a throwaway folder that the test run empties (conftest),
# one per xdist worker so that one worker's clean-up spares another's files.
MEDIA_ROOT = BASE_DIR / "var" / "test-media" / (_xdist_worker or "main")
STORAGES = {
    **STORAGES,
    "audit_segments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": BASE_DIR
            / "var"
            / "test-audit-segments"
            / (_xdist_worker or "main")
        },
    },
}
# Scanning only where a test switches it on (tests/documents/conftest.py).
CLAMAV_ADDRESS = ""
# Tasks run inside the request, so a test sees their effects at once; the
# tests in tests/jobs/ run the real database worker instead.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
ALLOWED_HOSTS = ["*"]
# Every writer chains on commit, so a test that reads AuditEvent straight after
# a request sees its events; tests/audit/test_pending_events.py and
# test_audit_log.py turn the production gate on where they test it.
AUDIT_CHAIN_INTERVAL_MS = 0
# Packs render their sections one after another: test processes run a live
# server and Chromium's driver in other threads, which a fork would copy
# mid-call, and xdist already keeps the cores busy. tests/portal/test_pdf.py
# and tests/meetings/test_pack_sections.py render side by side on purpose.
PDF_RENDER_PROCESSES = 1
# Short password rules would slow nothing; keep the real validators.

# A file-based SQLite test database so --reuse-db works (see docs/stack-notes.md).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {
        "NAME": env.str(
            "DJANGO_TEST_DB_NAME", default=str(BASE_DIR / "var" / "test-db.sqlite3")
        )
    }
    # The test database is thrown away, so no commit waits for the disk:
    # a flush or a live-server request used to spend about 13 ms a commit there.
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA synchronous=OFF"

# Tests make their own demo value, apart from the one the local demo uses.
DEMO_SECRET_FILE = BASE_DIR / "var" / "test-demo-secret"
WHITENOISE_AUTOREFRESH = True
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"]},
}
