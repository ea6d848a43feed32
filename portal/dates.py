"""How the portal writes dates: GOV.UK style, "6 December 2026".

https://www.gov.uk/guidance/style-guide/a-to-z#dates. Templates get the same
through the format module (portal.formats): ``{{ value|date }}`` and
``{{ value|date:"DATETIME_FORMAT" }}``; Python code (emails, messages, admin
columns) calls the functions here.
"""

from django.utils import dateformat, timezone

DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"


def long_date(value) -> str:
    """``6 December 2026`` for a date or (in local time) a datetime."""
    return dateformat.format(_local(value), DATE_FORMAT)


def long_datetime(value) -> str:
    """``6 December 2026, 14:30`` in local time."""
    return dateformat.format(_local(value), DATETIME_FORMAT)


def _local(value):
    if hasattr(value, "tzinfo") and timezone.is_aware(value):
        return timezone.localtime(value)
    return value
