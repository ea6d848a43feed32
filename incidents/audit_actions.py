"""The names of the audit events the incidents app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class IncidentAction(StrEnum):
    """Reporting and handling suspected data incidents, and the alerts about
    unusual activity that can start one."""

    ALERT_RAISED = "incident.alert_raised"
    ALERT_TURNED_INTO_INCIDENT = "incident.alert_escalated"
    ALERT_VIEWED = "incident.alert_viewed"
    ALERTS_LIST_VIEWED = "incident.alerts_list_viewed"
    CONTAINMENT_TAKEN = "incident.containment_taken"
    DECISION_RECORDED = "incident.decision_recorded"
    DEADLINE_PASSED = "incident.deadline_passed"
    DEADLINE_REMINDED = "incident.deadline_reminded"
    LIST_VIEWED = "incident.list_viewed"
    REPORTED = "incident.reported"
    TRIAGED = "incident.triaged"
