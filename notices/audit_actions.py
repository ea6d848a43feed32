"""The names of the audit events the notices app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class NoticeAction(StrEnum):
    """A person's own "What's new" list and their email choices."""

    ALL_READ = "notice.all_read"
    DELETED_OLD = "notice.deleted_old"
    EMAIL_CHOICES_CHANGED = "notice.email_choices_changed"
    LIST_VIEWED = "notice.list_viewed"
    OPENED = "notice.opened"
