"""Objections to processing (UK GDPR Article 21) and erasure requests
(Article 17): recorded, then decided by the data protection officer.

An upheld erasure destroys the named cases through the retention work's one
disposal path (``referrals.retention.referral_dispose``), so every app's
content goes and a tombstone stays, its reason "erasure request". A case on
legal hold is not destroyed: the outcome says so and the officer is told on
the page. Refusing changes nothing but the request's own record.
"""

from datetime import date

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User
from agreements.retention import retention_in_force
from audit.services import audit_record
from referrals.models import DisposalReason, Referral, Tombstone
from referrals.retention import RetentionRefused, referral_dispose

from .audit_actions import RightsAction
from .models import RequestDecision, RequestKind, RightsRequest
from .sar import SarRefused, _officer_only, _text

# What became of each case named in an upheld erasure.
DISPOSED, HELD, NOT_FOUND, NO_SCHEDULE = "disposed", "held", "not found", "no period"


def references_read(text: str) -> list[str]:
    """Case references typed one per line or separated by commas, upper-cased
    and each once, in the order given."""
    seen: list[str] = []
    for part in (text or "").replace(",", "\n").splitlines():
        reference = part.strip().upper()
        if reference and reference not in seen:
            seen.append(reference)
    return seen


@transaction.atomic
def rights_request_record(
    *, user: User, kind: str, requester_name: str, case_references: list[str],
    received_on: date, grounds: str, request: HttpRequest | None = None,
) -> RightsRequest:  # fmt: skip
    _officer_only(user)
    if kind not in RequestKind.values:
        raise SarRefused("Select the kind of request", "kind")
    name = _text(requester_name, "requester_name", "Enter the requester's name")
    if not case_references:
        raise SarRefused("Enter the reference of at least one case", "cases")
    known = set(
        Referral.objects.filter(reference__in=case_references).values_list(
            "reference", flat=True
        )
    )
    unknown = [r for r in case_references if r not in known]
    if unknown:
        raise SarRefused(f"No case has the reference {unknown[0]}", "cases")
    if received_on > timezone.localdate():
        raise SarRefused("The date received must be today or in the past",
                         "received_on")  # fmt: skip
    grounds = _text(grounds, "grounds", "Summarise the requester's grounds")
    record = RightsRequest(
        kind=kind,
        requester_name=name,
        case_references=case_references,
        received_on=received_on,
        grounds=grounds,
        recorded_by=user,
    )
    record.full_clean()
    record.save()
    audit_record(
        action=RightsAction.REQUEST_RECORDED, request=request, actor=user,
        obj=record, detail={"kind": kind, "references": case_references},
    )  # fmt: skip
    return record


def rights_request_decide(
    *, record: RightsRequest, user: User, decision: str, reasons: str,
    request: HttpRequest | None = None,
) -> RightsRequest:  # fmt: skip
    """Record the decision; an upheld erasure then destroys each named case
    that is not on legal hold, each in its own transaction, so one held case
    does not keep the others."""
    _officer_only(user)
    if decision not in RequestDecision.values:
        raise SarRefused("Select whether the request is upheld or refused",
                         "decision")  # fmt: skip
    reasons = _text(reasons, "reasons", "Enter the reasons for the decision")
    with transaction.atomic():
        locked = RightsRequest.objects.select_for_update().get(pk=record.pk)
        if locked.decision:
            raise SarRefused("This request has already been decided", "decision")
        locked.decision, locked.decision_reasons = decision, reasons
        locked.decided_by, locked.decided_at = user, timezone.now()
        locked.full_clean()
        locked.save()
    outcome = {}
    if decision == RequestDecision.UPHELD and locked.kind == RequestKind.ERASURE:
        outcome = {
            reference: _erase(reference, user, locked, request)
            for reference in locked.case_references
        }
        RightsRequest.objects.filter(pk=locked.pk).update(outcome=outcome)
        locked.outcome = outcome
    audit_record(
        action=RightsAction.REQUEST_DECIDED, request=request, actor=user,
        obj=locked, detail={"kind": locked.kind, "decision": decision,
                            "outcome": outcome},
    )  # fmt: skip
    return locked


def _erase(reference: str, user: User, record, request) -> str:
    referral = Referral.objects.filter(reference=reference).first()
    if referral is None:
        gone = Tombstone.objects.filter(reference=reference).exists()
        return DISPOSED if gone else NOT_FOUND
    schedule = retention_in_force()
    if schedule is None:
        return NO_SCHEDULE
    try:
        referral_dispose(
            referral=referral,
            schedule=schedule,
            authorised_by=f"{user.get_full_name() or user.username} (data "
            f"protection officer): erasure request {record.pk}",
            reason=DisposalReason.ERASURE,
        )
    except RetentionRefused:
        audit_record(
            action=RightsAction.ERASURE_HELD, request=request, actor=user,
            obj=record, detail={"reference": reference},
        )  # fmt: skip
        return HELD
    return DISPOSED
