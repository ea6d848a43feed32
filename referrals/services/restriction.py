"""Restriction of processing (UK GDPR Article 18): the one place a case is
restricted and lifted, and the one check every other service asks before it
puts a case on an agenda, shares it or puts it in a pack.

Deny by default: each of those services calls ``restriction_refuse`` inside
its own transaction, with the case locked or re-read, whatever the page
offered. Agencies that already see the case keep seeing it, with a banner
saying it is restricted (docs/features.md, "Restriction").
"""

from datetime import date

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Role, User
from audit.services import audit_record
from portal.forms import NULL_CHARACTER_MESSAGE, contains_null_character

from ..audit_actions import ReferralAction
from ..models import CaseRestriction, Referral
from ._common import ReferralRefused


class CaseRestricted(ReferralRefused):
    """The case is restricted, so this cannot be done to it now."""


def restriction_in_force(referral: Referral) -> CaseRestriction | None:
    """The restriction standing on the case now, read from the database."""
    return CaseRestriction.objects.in_force().filter(referral_id=referral.pk).first()


def restriction_refuse(referral: Referral, what: str) -> None:
    """Raise ``CaseRestricted`` if the case is restricted now; ``what`` is
    the refused step in plain words ("put on an agenda")."""
    if restriction_in_force(referral) is not None:
        raise CaseRestricted(
            f"{referral.reference} is restricted: it cannot be {what} until a "
            "coordinator lifts the restriction."
        )


def _label(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _checked_reason(reason: str, blank: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ReferralRefused(blank)
    if contains_null_character(reason):
        raise ReferralRefused(NULL_CHARACTER_MESSAGE)  # PostgreSQL cannot keep it
    return reason


def _end_past(locked: Referral, today: date) -> None:
    """Record the end of a restriction whose end date has passed but that
    the daily job has not ended yet, so a new one can stand on its own."""
    for past in CaseRestriction.objects.filter(
        referral=locked, lifted_at__isnull=True, until__lt=today
    ):
        _lift(past, None, "The end date passed", None)


def _lift(restriction, user, reason, request) -> None:
    restriction.lifted_at = timezone.now()
    restriction.lifted_by = user
    restriction.lifted_by_label = _label(user) if user else ""
    restriction.lift_reason = reason
    restriction.full_clean()
    restriction.save()
    audit_record(
        action=ReferralAction.RESTRICTION_LIFTED,
        request=request,
        actor=user,
        obj=restriction.referral,
        detail={
            "restriction": restriction.pk,
            "reference": restriction.referral.reference,
            "why": reason,
        },
    )


def referral_restrict(
    *, referral: Referral, user: User, reason: str, until: date | None = None,
    request: HttpRequest | None = None,
) -> CaseRestriction:  # fmt: skip
    """Restrict processing of a case from now, until it is lifted or (if
    given) the end of ``until``. Coordinators only."""
    if not user.has_role(Role.COORDINATOR):
        raise ReferralRefused("Only coordinators can restrict a case.")
    reason = _checked_reason(reason, "Enter why processing is restricted")
    today = timezone.localdate()
    if until is not None and until < today:
        raise ReferralRefused("The end date must be today or in the future")
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        _end_past(locked, today)
        if CaseRestriction.objects.filter(
            referral=locked, lifted_at__isnull=True
        ).exists():
            raise ReferralRefused(f"{locked.reference} is already restricted.")
        restriction = CaseRestriction(
            referral=locked,
            reason=reason,
            restricted_by=user,
            restricted_by_label=_label(user),
            restricted_at=timezone.now(),
            until=until,
        )
        restriction.full_clean()
        restriction.save()
        audit_record(
            action=ReferralAction.RESTRICTED,
            request=request,
            actor=user,
            obj=locked,
            detail={
                "restriction": restriction.pk,
                "reference": locked.reference,
                "until": until.isoformat() if until else None,
                "why": reason,
            },
        )
    return restriction


def referral_restriction_lift(
    *, referral: Referral, user: User, reason: str,
    request: HttpRequest | None = None,
) -> CaseRestriction:  # fmt: skip
    """Lift the restriction standing on the case, saying why. Coordinators
    only; the row stays, for the case's history."""
    if not user.has_role(Role.COORDINATOR):
        raise ReferralRefused("Only coordinators can lift a restriction.")
    reason = _checked_reason(reason, "Enter why the restriction is lifted")
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        restriction = (
            CaseRestriction.objects.in_force()
            .select_for_update()
            .filter(referral=locked)
            .first()
        )
        if restriction is None:
            raise ReferralRefused(f"{locked.reference} is not restricted.")
        restriction.referral = locked
        _lift(restriction, user, reason, request)
    return restriction


def restrictions_end_expired(*, today: date | None = None) -> int:
    """The daily job: record the end of each restriction past its end date
    (the checks already treat it as ended), so the case's history and the
    audit log show it and meeting packs are rebuilt. Returns how many."""
    today = today or timezone.localdate()
    ended = 0
    expired = CaseRestriction.objects.filter(
        lifted_at__isnull=True, until__lt=today
    ).values_list("pk", flat=True)
    for pk in list(expired):
        with transaction.atomic():
            restriction = (
                CaseRestriction.objects.select_for_update()
                .select_related("referral")
                .get(pk=pk)
            )
            if restriction.lifted_at is None:
                _lift(restriction, None, "The end date passed", None)
                ended += 1
    return ended
