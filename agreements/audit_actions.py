"""The names of the audit events the agreements app records, in one place.

The values are stored in the audit log and covered by its hashes: never
change one; add a new member instead (docs/audit.md lists them all).
"""

from enum import StrEnum


class AgreementAction(StrEnum):
    """Agreements, acknowledgements, receipts, coverage and the ISA gate
    in front of case material."""

    ACKNOWLEDGED = "agreement.acknowledged"
    CASE_MATERIAL_NOT_FOUND = "case_material.not_found"
    CASE_MATERIAL_REFUSED = "case_material.refused"
    CASE_ROUTE_FORBIDDEN = "case_material.forbidden"
    COVERAGE_EXPORTED = "agreement.coverage_exported"
    COVERAGE_LIST_EXPORTED = "agreement_coverage.exported"
    COVERAGE_LIST_VIEWED = "agreement_coverage.list_viewed"
    COVERAGE_VIEWED = "agreement.coverage_viewed"
    ORGANISATIONS_DROPPED = "agreement.organisations_dropped"
    PDF_DOWNLOADED = "agreement.pdf_downloaded"
    RECEIPT_DOWNLOADED = "agreement.receipt_downloaded"
    RECEIPT_VERIFIED = "agreement.receipt_verified"
    VERSION_PUBLISHED = "agreement.version_published"
