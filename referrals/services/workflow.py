"""The screening workflow: where each status may go next and what it needs,
the free-text review and answering a request for information."""

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import Role, User
from audit.services import audit_record
from notices.models import NoticeKind
from notices.services import notices_record
from portal.forms import NULL_CHARACTER_MESSAGE, contains_null_character

from ..audit_actions import ReferralAction
from ..models import (
    EventKind,
    FreeTextReviewKind,
    Referral,
    ReferralFreeTextReview,
    Status,
)
from ..redaction import is_flagged, needs_free_text_review
from ..tasks import NotificationKind
from ._common import ReferralRefused, _event, _notify
from .sharing import _shares_end_on_close
from .transitions import ARRIVALS, CLOSING, TEXTS, allowed_next, screening_next


def referral_transition(
    *, referral: Referral, to_status: str, user: User, expected_status: str,
    reason: str = "", redirected_to: str = "", feedback: str = "",
    request: HttpRequest | None = None,
) -> Referral:  # fmt: skip
    """Move a referral on in the workflow, as a coordinator.

    ``expected_status`` is the status the coordinator saw: if someone else has
    moved the referral since, nothing changes and the message says so.
    """
    if not user.has_role(Role.COORDINATOR):
        raise ReferralRefused("Only coordinators can change a referral's status.")
    reason, redirected_to, feedback = (
        reason.strip(),
        redirected_to.strip(),
        feedback.strip(),
    )
    if contains_null_character([reason, redirected_to, feedback]):
        raise ReferralRefused(NULL_CHARACTER_MESSAGE)  # PostgreSQL cannot keep it
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        current = Status(locked.status)
        if current != expected_status:
            raise ReferralRefused(
                f"Someone else changed this referral to "
                f"'{current.label}' while you were looking at it. Check the "
                "latest details before you change it."
            )
        if to_status not in Status.values:
            raise ReferralRefused("Select a new status")
        target = Status(to_status)
        if target not in screening_next(current):
            raise ReferralRefused(
                f"A referral that is '{current.label}' cannot be moved to "
                f"'{target.label}'."
            )
        arrival = ARRIVALS[target]
        # Only the texts this move takes (transitions.Arrival.takes).
        posted = {"reason": reason, "redirected_to": redirected_to,
                  "feedback": feedback}  # fmt: skip
        given = {name: posted[name] for name in TEXTS if name in arrival.takes}
        for name, refusal in arrival.required.items():
            if not given.get(name):
                raise ReferralRefused(refusal)
        if arrival.needs_free_text_review and needs_free_text_review(locked):
            raise FreeTextReviewNeeded(FREE_TEXT_REVIEW_NEEDED)
        locked.status = target
        locked.status_changed_at = timezone.now()
        if target in CLOSING:  # the retention period runs from here
            locked.closed_at = locked.status_changed_at
        for name, model_field in arrival.kept.items():
            setattr(locked, model_field, given[name])
        locked.full_clean()
        locked.save()
        message = "\n\n".join(
            f"{TEXTS[name]}{text}" for name, text in given.items() if text
        )
        _event(locked, arrival.event, current, target, user, message)
        if arrival.ends_shares:
            _shares_end_on_close(locked, user, target, request)
        audit_record(
            action=ReferralAction.STATUS_CHANGED,
            request=request,
            actor=user,
            obj=locked,
            detail={"from": current.value, "to": target.value},
        )
        if arrival.tells_referrer:
            transaction.on_commit(lambda: _notify(locked.pk, NotificationKind.NEWS))
    return locked


# Withdrawing a referral -------------------------------------------------------


def may_withdraw(user: User, referral: Referral) -> bool:
    """Staff of the referring organisation who make referrals, while the
    table allows it (before screening starts)."""
    return (
        user.organisation_id == referral.organisation_id
        and user.has_role(Role.REFERRER)
        and Status.WITHDRAWN in allowed_next(referral.status)
    )


WITHDRAW_TOO_LATE = (
    "Screening of this referral has started, so it can no longer be withdrawn. "
    "Contact the CMARAC coordinators if it is no longer needed."
)


def referral_withdraw(
    *, referral: Referral, user: User, reason: str,
    request: HttpRequest | None = None,
) -> Referral:  # fmt: skip
    """The referring agency withdraws its referral before screening starts.

    Withdrawn is a closing status (``transitions.ARRIVALS``): the reason is
    kept as the outcome, any shares end, and the retention period runs from
    ``closed_at``. The coordinators get a notice naming only the reference.
    """
    arrival = ARRIVALS[Status.WITHDRAWN]
    reason = reason.strip()
    if contains_null_character(reason):
        raise ReferralRefused(NULL_CHARACTER_MESSAGE)  # PostgreSQL cannot keep it
    if user.organisation_id != referral.organisation_id or not user.has_role(
        Role.REFERRER
    ):
        raise ReferralRefused(
            "Only staff of the referring organisation can withdraw this referral."
        )
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        current = Status(locked.status)
        if Status.WITHDRAWN not in allowed_next(current):
            raise ReferralRefused(WITHDRAW_TOO_LATE)
        if not reason:
            raise ReferralRefused(arrival.required["reason"])
        locked.status = Status.WITHDRAWN
        locked.status_changed_at = timezone.now()
        locked.closed_at = locked.status_changed_at  # retention runs from here
        for model_field in arrival.kept.values():
            setattr(locked, model_field, reason)
        locked.full_clean()
        locked.save()
        _event(locked, arrival.event, current, Status.WITHDRAWN, user, reason)
        _shares_end_on_close(locked, user, Status.WITHDRAWN, request)
        audit_record(
            action=ReferralAction.WITHDRAWN,
            request=request,
            actor=user,
            obj=locked,
            detail={"from": current.value, "to": Status.WITHDRAWN.value},
        )
        _withdrawal_notify(locked)
    return locked


def _withdrawal_notify(referral: Referral) -> None:
    # The reference only: the reason may name people (notices carry none).
    notices_record(
        kind=NoticeKind.REFERRAL_WITHDRAWN,
        recipients=User.objects.filter(
            is_active=True, groups__name=Role.COORDINATOR.value
        ),
        title=f"Referral {referral.reference} was withdrawn by the referring agency",
        link=referral.get_absolute_url(),
        event=f"referral-withdrawn-{referral.pk}",
    )


# The free-text review ------------------------------------------------------------

FREE_TEXT_REVIEW_NEEDED = (
    "Before you accept this referral, confirm its free-text answers hold no "
    "identifying details of the people it protects, or write a summary for "
    "partner agencies"
)


class FreeTextReviewNeeded(ReferralRefused):
    """A flagged referral cannot be accepted before its free text is checked."""


def free_text_review_record(
    *, referral: Referral, user: User, kind: str, summary: str = "",
    request: HttpRequest | None = None,
) -> ReferralFreeTextReview:  # fmt: skip
    """A coordinator's check of a flagged referral's free text: confirmed to
    hold no identifying details, or replaced for other agencies by ``summary``
    (``referrals.redaction``). Recording again replaces the earlier check."""
    if not user.has_role(Role.COORDINATOR):
        raise ReferralRefused("Only coordinators can check a referral's free text.")
    summary = summary.strip()
    if kind not in FreeTextReviewKind.values:
        raise ReferralRefused(
            "Select whether the free text is safe to share or needs a summary"
        )
    if kind == FreeTextReviewKind.SUMMARY and not summary:
        raise ReferralRefused("Enter the summary for partner agencies")
    if kind == FreeTextReviewKind.CONFIRMED:
        summary = ""
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if not is_flagged(locked):
            raise ReferralRefused(
                'Only a referral marked "do not disclose" or "anonymous '
                'source" needs its free text checked.'
            )
        if not locked.is_open:
            raise ReferralRefused("This referral is closed.")
        review = ReferralFreeTextReview.objects.filter(
            referral=locked
        ).first() or ReferralFreeTextReview(referral=locked)
        review.kind = kind
        review.summary = summary
        review.reviewed_by = user
        review.reviewed_by_label = user.get_full_name() or user.get_username()
        review.reviewed_at = timezone.now()
        review.full_clean(validate_unique=False)
        review.save()
        audit_record(
            action=ReferralAction.FREE_TEXT_REVIEWED,
            request=request,
            actor=user,
            obj=locked,
            detail={"kind": kind},
        )
    return review


def information_provide(
    *, referral: Referral, user: User, message: str,
    request: HttpRequest | None = None,
) -> Referral:  # fmt: skip
    """The referrer's organisation answers a request for more information.

    The referral goes back to screening and the coordinators are told.
    """
    message = message.strip()
    if not message:
        raise ReferralRefused("Enter the information the coordinator asked for")
    if contains_null_character(message):
        raise ReferralRefused(NULL_CHARACTER_MESSAGE)  # PostgreSQL cannot keep it
    if user.organisation_id != referral.organisation_id or not user.has_role(
        Role.REFERRER
    ):
        raise ReferralRefused(
            "Only staff of the referring organisation can answer this request."
        )
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if locked.status != Status.INFORMATION_REQUESTED:
            raise ReferralRefused(
                "The coordinator is not waiting for information on this referral "
                "now. Your answer was not sent."
            )
        locked.status = Status.SCREENING
        locked.status_changed_at = timezone.now()
        locked.save(update_fields=["status", "status_changed_at"])
        _event(
            locked,
            EventKind.INFORMATION_PROVIDED,
            Status.INFORMATION_REQUESTED,
            Status.SCREENING,
            user,
            message,
        )
        audit_record(
            action=ReferralAction.INFORMATION_PROVIDED,
            request=request,
            actor=user,
            obj=locked,
        )
        transaction.on_commit(lambda: _notify(locked.pk, NotificationKind.ANSWERED))
    return locked
