"""The names of the audit events the meetings app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class MeetingAction(StrEnum):
    """Meetings, agendas, packs, the record of a meeting and minutes, and
    their admin lists."""

    ACTIONS_EXPORTED = "meeting_action.exported"
    ACTIONS_LIST_VIEWED = "meeting_action.list_viewed"
    ACTIONS_VIEWED = "meeting.actions_viewed"
    ACTION_ADDED = "meeting.action_added"
    ACTION_UPDATED = "meeting.action_updated"
    AGENDA_ITEM_ADDED = "meeting.agenda_item_added"
    AGENDA_ITEM_REMOVED = "meeting.agenda_item_removed"
    AGENDA_REORDERED = "meeting.agenda_reordered"
    ATTENDANCE_EXPORTED = "meeting_attendance.exported"
    ATTENDANCE_LIST_VIEWED = "meeting_attendance.list_viewed"
    ATTENDANCE_RECORDED = "meeting.attendance_recorded"
    ATTENDANCE_REPLIED = "meeting.attendance_replied"
    CANCELLED = "meeting.cancelled"
    CASE_DISCUSSED = "meeting.case_discussed"
    CHANGED = "meeting.changed"
    CONFIDENTIALITY_CONFIRMED = "meeting.confidentiality_confirmed"
    EXPORTED = "meeting.exported"
    HELD = "meeting.held"
    INVITATIONS_CHANGED = "meeting.invitations_changed"
    LIST_VIEWED = "meeting.list_viewed"
    MINUTES_DOWNLOADED = "meeting.minutes_downloaded"
    MINUTES_DOWNLOAD_REFUSED = "meeting.minutes_download_refused"
    MINUTES_ISSUED = "meeting.minutes_issued"
    MINUTES_SAVED = "meeting.minutes_saved"
    PACK_DELETED = "meeting.pack_deleted"
    PACK_DOWNLOADED = "meeting.pack_downloaded"
    PACK_DOWNLOAD_REFUSED = "meeting.pack_download_refused"
    PAPERS_ISSUED = "meeting.papers_issued"
    RECORD_DISPOSED = "meeting.record_disposed"
    SCHEDULED = "meeting.scheduled"
