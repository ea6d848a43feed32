"""The names of the audit events the documents app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class DocumentAction(StrEnum):
    """Shared files, published documents and restore checks."""

    DOWNLOADED = "document.downloaded"
    DOWNLOAD_FAILED = "document.download_failed"
    EXPIRY_SHORTENED = "document.expiry_shortened"
    INFECTED_REFUSED = "document.infected_refused"
    LIST_VIEWED = "document.list_viewed"
    PURGED = "document.purged"
    RECALLED = "document.recalled"
    RECORDS_DISPOSED = "document.records_disposed"
    RECIPIENT_REMOVED = "document.recipient_removed"
    RESOURCE_DOWNLOADED = "document.resource_downloaded"
    RESTORE_VERIFIED = "restore.verified"
    SCAN_UNAVAILABLE = "document.scan_unavailable"
    SHARED = "document.shared"
