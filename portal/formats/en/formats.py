"""Django's date formats for English, set to the portal's (portal.dates)."""

from portal.dates import DATE_FORMAT, DATETIME_FORMAT  # noqa: F401
