"""The names of the audit events the home app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class HomeAction(StrEnum):
    """Search and guidance pages."""

    GUIDANCE_REVIEW_REMINDER_SENT = "guidance.review_reminder_sent"
    SEARCH = "search"
