from django.conf import settings

from accounts.session_time import in_words, stamp_granularity


def portal(request):
    return {
        "protective_marking": settings.PROTECTIVE_MARKING,
        # Not "site_name": Django's LoginView sets that to the request's host,
        # and a view's context wins over a context processor's.
        "portal_name": settings.WAGTAIL_SITE_NAME,
        # For the warning before the idle sign-out (static/js/session-timeout.js).
        # The same for everyone, so a page kept by portal.page_cache stays right.
        "session_timing": {
            "timeout": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
            "timeout_words": in_words(settings.SESSION_IDLE_TIMEOUT),
            "warning": int(settings.SESSION_IDLE_WARNING.total_seconds()),
            "warning_words": in_words(settings.SESSION_IDLE_WARNING),
            "lag": stamp_granularity(),
        },
    }
