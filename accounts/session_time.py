"""How long a session has left, and why a person was signed out.

The server is the one clock: ``accounts.middleware.SessionLifetimeMiddleware``
ends a session idle for ``SESSION_IDLE_TIMEOUT`` or older than
``SESSION_ABSOLUTE_LIFETIME``, and every page's warning script asks here how
long is left (``accounts.views.session_time``), so activity in another tab
counts (docs/security.md, "Sessions").
"""

import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

from portal.session_keys import SESSION_SEEN_KEY, SESSION_STARTED_KEY

IDLE = "idle"
ABSOLUTE = "absolute lifetime"

# The sign-in page's query parameter that says why the person was signed out.
# Signed by the server, so the page never shows text someone put in a link.
NOTICE_PARAMETER = "signed-out"
_NOTICE_SALT = "accounts.signed-out"
# Long enough to read the page, type a password and a code; a bookmarked
# sign-in address does not keep saying it forever.
_NOTICE_MAX_AGE = 60 * 60


@dataclass(frozen=True)
class SessionEnded:
    """Why the request's session was ended, and what was kept of its form."""

    reason: str
    kept: str | None = None


def stamp_granularity() -> int:
    """Seconds a last-seen stamp may lag behind the person's last request.

    Stamping on every request would write the session each time; once a
    minute is enough for a 30-minute timeout. A very short timeout (tests)
    is stamped on every request.
    """
    idle = int(settings.SESSION_IDLE_TIMEOUT.total_seconds())
    return min(60, idle // 10)


def seconds_left(session, now: int | None = None) -> int:
    """Seconds until the session ends, by inactivity or by its age; never
    below zero."""
    now = int(time.time()) if now is None else now
    seen = session.get(SESSION_SEEN_KEY, now)
    started = session.get(SESSION_STARTED_KEY, now)
    idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
    absolute = settings.SESSION_ABSOLUTE_LIFETIME.total_seconds()
    return max(0, int(min(seen + idle, started + absolute) - now))


def ended_reason(session, now: int) -> str | None:
    """Why the session must end now, or None while it may go on."""
    seen = session.get(SESSION_SEEN_KEY, now)
    started = session.get(SESSION_STARTED_KEY, now)
    if now - seen > settings.SESSION_IDLE_TIMEOUT.total_seconds():
        return IDLE
    if now - started > settings.SESSION_ABSOLUTE_LIFETIME.total_seconds():
        return ABSOLUTE
    return None


def session_extend(session) -> None:
    """Count now as activity: the person chose to stay signed in."""
    session[SESSION_SEEN_KEY] = int(time.time())


def sign_in_url(ended: SessionEnded | None = None) -> str:
    """The sign-in page, saying why the person was signed out, if known."""
    url = reverse(settings.LOGIN_URL)
    if ended is None:
        return url
    value = signing.dumps(
        {"reason": ended.reason, "kept": ended.kept or ""}, salt=_NOTICE_SALT
    )
    return f"{url}?{urlencode({NOTICE_PARAMETER: value})}"


def signed_out_notice(value: str | None) -> str | None:
    """What the sign-in page says about a signed-out notice, or None when
    there is none (or it is not one we made, or it is old)."""
    if not value:
        return None
    try:
        ended = signing.loads(value, salt=_NOTICE_SALT, max_age=_NOTICE_MAX_AGE)
    except signing.BadSignature:
        return None
    if ended.get("reason") == IDLE:
        idle = in_words(settings.SESSION_IDLE_TIMEOUT)
        text = f"You were signed out because you had not done anything for {idle}."
    elif ended.get("reason") == ABSOLUTE:
        lifetime = in_words(settings.SESSION_ABSOLUTE_LIFETIME)
        text = f"You were signed out because you had been signed in for {lifetime}."
    else:
        return None
    if ended.get("kept"):
        text += f" We saved what you were typing in ‘{ended['kept']}’."
    return text


def in_words(duration: timedelta) -> str:
    """A duration as people say it: "30 minutes", "12 hours", "1 minute"."""
    seconds = int(duration.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"
