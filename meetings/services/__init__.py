"""Business rules for meetings, by topic: ``agenda`` (scheduling, the agenda,
invitations, issuing papers), ``packs`` (building and stamping packs) and
``recording`` (attendance, discussion, actions, minutes).

Callers import from ``meetings.services``; a test that patches a name patches
it in the module that looks it up (``meetings.services.packs.pack_build``).
"""

from ._common import MeetingRefused
from .agenda import (
    MEETING_CHANGEABLE,
    agenda_item_add,
    agenda_item_invite,
    agenda_item_move,
    agenda_item_remove,
    invitations_withdraw,
    meeting_schedule,
    meeting_update,
    papers_issue,
    shares_sync,
)
from .packs import (
    PackDownload,
    invited_organisations,
    outstanding_actions,
    pack_build,
    pack_context,
    pack_download,
    packs_build,
    packs_delete_for_organisations,
    packs_outdated,
    packs_outdated_for_cases,
    packs_outdated_in,
    packs_rebuild_showing,
    watermark_text,
)
from .recording import (
    MINUTES_DUE_WORKING_DAYS,
    REVIEW_DAYS,
    action_add,
    action_update,
    attendance_record,
    case_discussion_record,
    meeting_mark_held,
    minutes_context,
    minutes_issue,
    minutes_pdf,
    minutes_save,
    open_action_owners,
)

__all__ = [
    "MEETING_CHANGEABLE",
    "MINUTES_DUE_WORKING_DAYS",
    "REVIEW_DAYS",
    "MeetingRefused",
    "PackDownload",
    "action_add",
    "action_update",
    "agenda_item_add",
    "agenda_item_invite",
    "invitations_withdraw",
    "agenda_item_move",
    "agenda_item_remove",
    "attendance_record",
    "case_discussion_record",
    "invited_organisations",
    "meeting_mark_held",
    "meeting_schedule",
    "meeting_update",
    "minutes_context",
    "minutes_issue",
    "minutes_pdf",
    "minutes_save",
    "open_action_owners",
    "outstanding_actions",
    "pack_build",
    "pack_context",
    "pack_download",
    "packs_build",
    "packs_delete_for_organisations",
    "packs_outdated",
    "packs_outdated_for_cases",
    "packs_outdated_in",
    "packs_rebuild_showing",
    "papers_issue",
    "shares_sync",
    "watermark_text",
]
