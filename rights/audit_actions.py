"""The names of the audit events the rights app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class RightsAction(StrEnum):
    """The data protection officer's screens and the person index."""

    HOME_VIEWED = "rights.home_viewed"
    INDEX_REBUILT = "rights.index_rebuilt"
    PEOPLE_SEARCHED = "rights.people_searched"
    RECORD_VIEWED = "rights.record_viewed"
    REFUSED = "rights.refused"
