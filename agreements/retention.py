"""Which retention periods apply on a day: those frozen in the Information
Sharing Agreement version in force then.

A version comes into force on its effective date, once published; a later
version with other periods changes the schedule from its own date, and the
disposal job (``referrals.retention``) asks again every day.
"""

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from .models import AgreementVersion, SharingAgreementPage


@dataclass(frozen=True)
class RetentionSchedule:
    version_id: int
    version_label: str  # "CSP-ISA-CMARAC v1.0"
    case_months: int
    shared_file_months: int
    meeting_months: int
    audit_years: int


def retention_in_force(on: date | None = None) -> RetentionSchedule | None:
    """The periods of the ISA version in force on ``on`` (today by default),
    or None when no published ISA version carries periods: then nothing is
    disposed of, because nothing says how long to keep it."""
    on = on or timezone.localdate()
    candidates = (
        AgreementVersion.objects.filter(
            kind=SharingAgreementPage._meta.verbose_name,
            retention__isnull=False,
            effective_date__lte=on,
        )
        .order_by("-effective_date", "-major", "-minor")
        .only("pk", "reference", "major", "minor", "retention", "published_at")
    )
    for version in candidates:
        if timezone.localdate(version.published_at) <= on:
            periods = version.retention
            return RetentionSchedule(
                version_id=version.pk,
                version_label=f"{version.reference} v{version.number}",
                case_months=periods["case_months"],
                shared_file_months=periods["shared_file_months"],
                meeting_months=periods["meeting_months"],
                audit_years=periods["audit_years"],
            )
    return None
