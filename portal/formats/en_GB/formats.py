"""Django's date formats for en-GB, set to the portal's (portal.dates)."""

from portal.dates import DATE_FORMAT, DATETIME_FORMAT  # noqa: F401
