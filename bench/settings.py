"""Benchmark settings: production settings with DEBUG off, plus two reference
endpoints (a bare Django view and a stock Wagtail page). Never deployed."""

from portal.settings.production import *  # noqa: F403
from portal.settings.production import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.peer"]
ROOT_URLCONF = "bench.urls"
# No mail server on the bench machine: notifications go nowhere.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
