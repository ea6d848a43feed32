"""Business rules for referrals, by topic: ``drafts`` (drafts and
submitting), ``attachments``, ``workflow`` (screening, the free-text review,
requests for information) and ``sharing`` (who else sees a case).

Callers import from ``referrals.services``; a test that patches a name
patches it in the module that looks it up (``referrals.services.drafts._event``).
"""

from ._common import ReferralRefused
from .amending import AmendmentRefused, referral_amend
from .attachments import (
    ATTACHMENT_LOST_MESSAGE,
    ATTACHMENT_SUBJECT,
    attachment_add,
    attachment_default_visibility,
    attachment_remove,
)
from .drafts import (
    DraftConflict,
    DraftIncomplete,
    Problem,
    draft_delete,
    draft_problems,
    draft_save,
    draft_start,
    drafts_delete_stale,
    reference_allocate,
    referral_submit,
)
from .notes import (
    NOTE_MAX_LENGTH,
    case_note_add,
    may_add_note,
)
from .restriction import (
    CaseRestricted,
    referral_restrict,
    referral_restriction_lift,
    restriction_in_force,
    restriction_refuse,
    restrictions_end_expired,
)
from .sharing import (
    referral_share_end,
    referral_share_extend,
    referral_share_grant,
    referral_shares_end,
    referral_shares_end_expired,
    share_default_end,
    share_end_of_day,
    sharing_without_consent_approve,
)
from .transitions import (
    ARRIVALS,
    CLOSING,
    NEEDS_REASON,
    TRANSITIONS,
    Arrival,
    allowed_next,
    screening_next,
)
from .workflow import (
    FREE_TEXT_REVIEW_NEEDED,
    WITHDRAW_TOO_LATE,
    FreeTextReviewNeeded,
    free_text_review_record,
    information_provide,
    may_withdraw,
    referral_transition,
    referral_withdraw,
)

__all__ = [
    "ARRIVALS",
    "AmendmentRefused",
    "CaseRestricted",
    "Arrival",
    "ATTACHMENT_LOST_MESSAGE",
    "ATTACHMENT_SUBJECT",
    "CLOSING",
    "FREE_TEXT_REVIEW_NEEDED",
    "NEEDS_REASON",
    "TRANSITIONS",
    "WITHDRAW_TOO_LATE",
    "DraftConflict",
    "DraftIncomplete",
    "FreeTextReviewNeeded",
    "Problem",
    "ReferralRefused",
    "allowed_next",
    "attachment_add",
    "case_note_add",
    "may_add_note",
    "NOTE_MAX_LENGTH",
    "attachment_default_visibility",
    "attachment_remove",
    "draft_delete",
    "draft_problems",
    "draft_save",
    "draft_start",
    "drafts_delete_stale",
    "free_text_review_record",
    "information_provide",
    "may_withdraw",
    "reference_allocate",
    "referral_amend",
    "referral_restrict",
    "referral_restriction_lift",
    "referral_share_end",
    "referral_share_extend",
    "referral_share_grant",
    "referral_shares_end",
    "referral_shares_end_expired",
    "referral_submit",
    "referral_transition",
    "referral_withdraw",
    "restriction_in_force",
    "restriction_refuse",
    "restrictions_end_expired",
    "screening_next",
    "share_default_end",
    "share_end_of_day",
    "sharing_without_consent_approve",
]
