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
    # Subject access requests
    SAR_LISTED = "rights.sar_listed"
    SAR_OPENED = "rights.sar_opened"
    SAR_VIEWED = "rights.sar_viewed"
    SAR_IDENTITY_CHECKED = "rights.sar_identity_checked"
    SAR_EXTENDED = "rights.sar_extended"
    SAR_STATUS_CHANGED = "rights.sar_status_changed"
    SAR_SEARCHED = "rights.sar_searched"
    SAR_ITEMS_ADDED = "rights.sar_items_added"
    SAR_ITEM_VIEWED = "rights.sar_item_viewed"
    SAR_ITEM_REVIEWED = "rights.sar_item_reviewed"
    SAR_ITEM_REMOVED = "rights.sar_item_removed"
    SAR_BUNDLE_REQUESTED = "rights.sar_bundle_requested"
    SAR_BUNDLE_BUILT = "rights.sar_bundle_built"
    SAR_BUNDLE_FAILED = "rights.sar_bundle_failed"
    SAR_BUNDLE_REFUSED = "rights.sar_bundle_refused"
    SAR_BUNDLE_DOWNLOADED = "rights.sar_bundle_downloaded"
    SAR_DISCLOSED = "rights.sar_disclosed"
    SAR_REMINDED = "rights.sar_reminded"
    # Objections and erasure requests
    REQUEST_LISTED = "rights.request_listed"
    REQUEST_RECORDED = "rights.request_recorded"
    REQUEST_VIEWED = "rights.request_viewed"
    REQUEST_DECIDED = "rights.request_decided"
    ERASURE_HELD = "rights.erasure_held"
    REQUESTS_DISPOSED = "rights.requests_disposed"
