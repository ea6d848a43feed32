"""Settings for the real worker the tests in this folder start: the test
settings, the database queue, the test database and the tests' SMTP server."""

import os

from portal.settings.test import *  # noqa: F403
from portal.settings.test import DATABASES

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DATABASES["default"]["NAME"] = os.environ["JOBS_TEST_DATABASE_NAME"]
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["JOBS_TEST_SMTP_PORT"])
EMAIL_TIMEOUT = 2
EMAIL_RETRY_DELAYS = [1, 1, 1, 1]
