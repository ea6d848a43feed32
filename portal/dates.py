"""How the portal writes dates: GOV.UK style, "6 December 2026".

https://www.gov.uk/guidance/style-guide/a-to-z#dates. Templates get the same
through the format module (portal.formats): ``{{ value|date }}`` and
``{{ value|date:"DATETIME_FORMAT" }}``; Python code (emails, messages, admin
columns) calls the functions here.
"""

from datetime import date

from django.utils import dateformat, timezone

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"


def long_date(value) -> str:
    """``6 December 2026`` for a date, (in local time) a datetime, or an ISO
    date string as referral answers keep them; nothing for no value."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return dateformat.format(_local(value), DATE_FORMAT)


def long_datetime(value) -> str:
    """``6 December 2026, 14:30`` in local time; nothing for no value."""
    if value is None:
        return ""
    return dateformat.format(_local(value), DATETIME_FORMAT)


def _local(value):
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        return timezone.localtime(value)
    return value
