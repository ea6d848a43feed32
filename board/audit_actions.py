"""The names of the audit events the board app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class BoardAction(StrEnum):
    """The board's statistics and its quarterly reports."""

    REFUSED = "board.refused"
    REPORT_DOWNLOADED = "board.report_downloaded"
    REPORT_GENERATED = "board.report_generated"
    REPORT_REQUESTED = "board.report_requested"
    STATISTICS_VIEWED = "board.statistics_viewed"
