"""Template context from accounts: the session timings every page needs."""

from django.conf import settings

from .session_time import in_words, stamp_granularity


def session_timing(request):
    """For the warning before the idle sign-out (static/js/session-timeout.js).
    The same for everyone, so a page kept by portal.page_cache stays right."""
    return {
        "session_timing": {
            "timeout": int(settings.SESSION_IDLE_TIMEOUT.total_seconds()),
            "timeout_words": in_words(settings.SESSION_IDLE_TIMEOUT),
            "warning": int(settings.SESSION_IDLE_WARNING.total_seconds()),
            "warning_words": in_words(settings.SESSION_IDLE_WARNING),
            "lag": stamp_granularity(),
        },
    }
