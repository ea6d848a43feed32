"""The names of the audit events the referrals app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class ReferralAction(StrEnum):
    """Drafts, attachments, submitting, the workflow, sharing and the case
    pages and lists."""

    AMENDED = "referral.amended"
    ATTACHMENT_ADDED = "referral.attachment_added"
    ATTACHMENT_DOWNLOADED = "referral.attachment_downloaded"
    ATTACHMENT_DOWNLOAD_DENIED = "referral.attachment_download_denied"
    ATTACHMENT_DOWNLOAD_FAILED = "referral.attachment_download_failed"
    ATTACHMENT_INFECTED_REFUSED = "referral.attachment_infected_refused"
    ATTACHMENT_REMOVED = "referral.attachment_removed"
    ATTACHMENT_SCAN_UNAVAILABLE = "referral.attachment_scan_unavailable"
    DISPOSED = "referral.disposed"
    DRAFT_AUTOSAVED = "referral.draft_autosaved"
    DRAFT_DELETED = "referral.draft_deleted"
    DRAFT_EXPIRED = "referral.draft_expired"
    DRAFT_SAVED = "referral.draft_saved"
    DRAFT_STARTED = "referral.draft_started"
    EXPORTED = "referral.exported"
    FREE_TEXT_REVIEWED = "referral.free_text_reviewed"
    INFORMATION_PROVIDED = "referral.information_provided"
    LEGAL_HOLD_PLACED = "referral.legal_hold_placed"
    LEGAL_HOLD_REMOVED = "referral.legal_hold_removed"
    LIST_VIEWED = "referral.list_viewed"
    NOTE_ADDED = "referral.note_added"
    PDF_DOWNLOADED = "referral.pdf_downloaded"
    RESTRICTED = "referral.restricted"
    RESTRICTION_LIFTED = "referral.restriction_lifted"
    SHARE_CHANGED = "referral.share_changed"
    SHARE_ENDED = "referral.share_ended"
    SHARE_EXTENDED = "referral.share_extended"
    SHARE_GRANTED = "referral.share_granted"
    SHARING_WITHOUT_CONSENT_APPROVED = "referral.sharing_without_consent_approved"
    STATUS_CHANGED = "referral.status_changed"
    SUBMITTED = "referral.submitted"
    WITHDRAWN = "referral.withdrawn"
