"""What an audit event's ``detail`` may hold: never personal data.

The log is kept for years, far longer than the cases it talks about, and it is
append-only, so nothing written into it can be disposed of with the case. An
event therefore refers to people and records by type and id only
(``object_type``/``object_id``, ``detail`` ids); the case's own rows hold the
names, and are disposed of on the agreement's schedule.

``audit_record`` passes every ``detail`` through ``detail_cleaned``:

- search terms (``query``) are replaced by a keyed hash (``search_term_digest``):
  an investigator who knows a term can find the searches for it
  (``manage.py audit_search_term``), but the log does not hold it;
- keys that carry free text a person typed (reasons, titles, notes) are dropped
  and their names listed under ``withheld``;
- any other key must be in ``DETAIL_KEYS``. An unknown key is dropped and
  listed the same way, or refused outright where ``AUDIT_DETAIL_STRICT`` is on
  (tests and development), so a new call site cannot slip personal data in
  unnoticed. See docs/audit.md, "No personal data in events".
"""

import hashlib
import hmac
import logging
import unicodedata

from django.conf import settings

from .keys import AuditKey, keyring, signing_key

logger = logging.getLogger(__name__)

# Ids, counts, states, dates, flags and case references: never a name, an
# address, a phone number or text a person typed.
DETAIL_KEYS = frozenset(
    {
        # accounts
        "device", "method", "remaining", "kept", "path",
        "backup_codes_spent", "users_signed_out", "sessions_deleted",
        "authenticators_removed", "authenticators_advanced", "reset_authenticators",
        # sign-in through an agency's identity provider (a yes/no, no token)
        "mfa",
        # account changes and access governance (ids, role names, counts)
        "via", "roles", "account_request", "round", "deadline", "days_left",
        "confirmed", "removed", "pending", "lapsed", "suspended", "opened",
        "closed", "reminded",
        # agreements and the case-material gate
        "route", "number", "change_type", "version", "organisation", "organisations",
        # refusals on case routes: the ids in the address (agreements.middleware)
        "object_ids",
        # referrals (references are case numbers, not names)
        "from", "to", "section", "complete", "draft", "size", "visibility",
        "reference", "urgent", "kind", "ends_at", "via_meeting", "before",
        "owner", "last_saved", "redacted",
        # retention: holds, disposal runs and tombstones (hashes, not content)
        "hold", "review_date", "agreement_version", "content_hash", "references",
        "referral",
        # restriction and correction: ids, dates, versions and the name of
        # the corrected question (never its value)
        "restriction", "until", "answer",
        # meetings
        "meeting", "status", "created", "confidentiality_confirmed", "risk_after",
        "deputy_named",
        "next_review", "fields", "cases", "due", "pages",
        # documents and stored files
        "files", "bytes", "recipients", "target", "share", "collection",
        "signature", "dry_run",
        # storage sweeps: counts per stored kind (files.stored)
        "shared_file", "referral_attachment", "meeting_pack", "published_document",
        "board_report", "sar_bundle_pdf", "sar_bundle_json",
        # lists, exports and searches
        "page", "count", "days", "months", "show", "rows", "format", "where", "results",
        "referrals",
        "review_by",
        # data subject rights: the records a person search found
        # ("referrals.referral:12"), never the words searched for
        "records",
        # requests from data subjects: the officer's decision as a code, the
        # Data Protection Act exemption as a code, the outcome per case
        "decision", "exemption", "outcome",
        # restores and the audit log itself
        "problems", "missing_files", "audit_intact", "hashes_checked",
        "segment", "first_id", "last_id", "events", "sha256", "last_hash",
        "destroyed", "withheld", "retention_years",
        # partner withdrawal: the step's name and what it did, in counts
        "step", "recalled",
        # reasons given as codes or fixed wording (free-text reasons are
        # never passed: see FREE_TEXT_KEYS)
        "reason",
    }
)  # fmt: skip

# Text a person typed: dropped, the key's name kept under "withheld" so the
# event still shows that something was given (it stays on the record itself).
FREE_TEXT_KEYS = frozenset({"why", "end_reason", "title", "notes", "message", "name"})

# Search terms: kept as a keyed hash under "<key>_hmac".
SEARCH_TERM_KEYS = frozenset({"query"})


class PersonalDataInAudit(ValueError):
    """A detail key that is not known to be free of personal data."""


def detail_cleaned(detail: dict) -> dict:
    cleaned: dict = {}
    withheld: list[str] = []
    for key, value in detail.items():
        if key in SEARCH_TERM_KEYS:
            cleaned[f"{key}_hmac"] = search_term_digest(str(value))
        elif key in FREE_TEXT_KEYS:
            withheld.append(key)
        elif key in DETAIL_KEYS:
            cleaned[key] = value
        elif settings.AUDIT_DETAIL_STRICT:
            raise PersonalDataInAudit(
                f"Audit detail key {key!r} is not in audit.privacy.DETAIL_KEYS: "
                "add it there if it can never hold personal data, or leave it out."
            )
        else:
            logger.error("Audit detail key %r withheld: not allow-listed", key)
            withheld.append(key)
    if withheld:
        cleaned["withheld"] = sorted(withheld)
    return cleaned


def search_term_normalised(term: str) -> str:
    """Equal terms as a person would see them: case, accents' composition and
    spacing do not matter."""
    return " ".join(unicodedata.normalize("NFKC", term).casefold().split())


def search_term_digest(term: str, key: AuditKey | None = None) -> str:
    """HMAC-SHA256 of the normalised term under a key derived from the audit
    key, so a digest can never be taken for an event's or a checkpoint's HMAC.
    Without the key, a short list of likely names cannot be tried against it."""
    key = key or signing_key()
    derived = hmac.new(key.secret, b"audit search term", hashlib.sha256).digest()
    return hmac.new(
        derived, search_term_normalised(term).encode(), hashlib.sha256
    ).hexdigest()


def search_term_digests(term: str) -> dict[str, str]:
    """The term's digest under every configured key, by key id: an event's
    digest is under the key its ``key_id`` names."""
    return {
        key_id: search_term_digest(term, key) for key_id, key in keyring().by_id.items()
    }
