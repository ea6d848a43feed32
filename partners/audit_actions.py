"""The names of the audit events the partners app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class WithdrawalAction(StrEnum):
    """A partner organisation withdrawing: the record, each step of the run,
    the coordinators' report and the destruction certificate."""

    CERTIFICATE_CONFIRMED = "withdrawal.certificate_confirmed"
    CERTIFICATE_LINK_REFUSED = "withdrawal.certificate_link_refused"
    CERTIFICATE_SENT = "withdrawal.certificate_sent"
    CERTIFICATE_VIEWED = "withdrawal.certificate_viewed"
    COMPLETED = "withdrawal.completed"
    LIST_VIEWED = "withdrawal.list_viewed"
    RECORDED = "withdrawal.recorded"
    REPORT_VIEWED = "withdrawal.report_viewed"
    STEP_DONE = "withdrawal.step_done"
