"""The data protection officer's own records leave when their period ends.

A subject access request holds the requester's name, date of birth, address
and phone, the identity note, the decisions on each item and the disclosure
bundles; an objection or erasure request holds the requester's name and
grounds. Both are kept for ``RIGHTS_REQUEST_RETENTION_MONTHS`` (24: long
enough to answer a complaint to the ICO) after the request is closed or
decided, then deleted with their stored files by the daily
``dispose_rights_requests`` job. What stays is one audit event per run with
the counts: ids only, no requester.
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction

from audit.services import audit_record
from files.stored import kind_for, objects_delete
from referrals.retention import period_cutoff

from .audit_actions import RightsAction
from .models import DisclosureBundle, RightsRequest, SarStatus, SubjectAccessRequest


@dataclass(frozen=True)
class RightsDisposed:
    access_requests: int
    bundles: int
    other_requests: int


def rights_requests_due(day: date):
    """The closed subject access requests and the decided objection and
    erasure requests whose period has run out by ``day``."""
    cutoff = period_cutoff(day, settings.RIGHTS_REQUEST_RETENTION_MONTHS)
    access = SubjectAccessRequest.objects.filter(
        status=SarStatus.CLOSED, closed_at__lt=cutoff
    )
    others = RightsRequest.objects.filter(decided_at__lt=cutoff)
    return access, others


@transaction.atomic
def rights_requests_dispose(*, day: date) -> RightsDisposed:
    access, others = rights_requests_due(day)
    access_ids = list(access.select_for_update().values_list("pk", flat=True))
    bundles = list(DisclosureBundle.objects.filter(sar_id__in=access_ids))
    objects_delete(kind_for(DisclosureBundle, "pdf"), [b.pdf.name for b in bundles])
    objects_delete(kind_for(DisclosureBundle, "json"), [b.json.name for b in bundles])
    # Items and bundles cascade with their request.
    SubjectAccessRequest.objects.filter(pk__in=access_ids).delete()
    other_count, _ = others.delete()
    disposed = RightsDisposed(
        access_requests=len(access_ids),
        bundles=len(bundles),
        other_requests=other_count,
    )
    audit_record(
        action=RightsAction.REQUESTS_DISPOSED,
        detail={
            "count": disposed.access_requests + disposed.other_requests,
            "months": settings.RIGHTS_REQUEST_RETENTION_MONTHS,
        },
    )
    return disposed
