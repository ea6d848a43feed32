"""Reads for the pages that prompt coordinators after a withdrawal."""

from dataclasses import dataclass

from django.urls import reverse

from agreements.models import AgreementVersion
from agreements.selectors import sharing_agreements_in_force

from .models import Withdrawal


@dataclass(frozen=True)
class StillNamed:
    """A withdrawn organisation the agreement in force still names, and where
    to make the next version: the agreement's page in the Wagtail editor,
    whose signatory list no longer offers it."""

    withdrawal: Withdrawal
    version: AgreementVersion
    edit_url: str


def withdrawn_still_named() -> list[StillNamed]:
    """Withdrawn organisations still listed as parties to an Information
    Sharing Agreement in force. They get no case material (every case route
    and recipient list leaves them out), but the agreement should say so:
    a new version without them ends the prompt."""
    versions = sharing_agreements_in_force()
    if not versions:
        return []
    named = set().union(*(v.signatory_ids for v in versions))
    withdrawals = Withdrawal.objects.filter(organisation_id__in=named).select_related(
        "organisation"
    )
    return [
        StillNamed(
            withdrawal,
            version,
            reverse("wagtailadmin_pages:edit", args=[version.page_id]),
        )
        for withdrawal in withdrawals
        for version in versions
        if withdrawal.organisation_id in version.signatory_ids
    ]
