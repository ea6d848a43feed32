"""The names of the audit events the accounts app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class AccountAction(StrEnum):
    """Partner organisations in the admin, and people's accounts."""

    ORGANISATIONS_EXPORTED = "organisation.exported"
    ORGANISATIONS_LIST_VIEWED = "organisation.list_viewed"
    USER_DEACTIVATED = "account.user_deactivated"
