"""Pieces the referral services share: the refusal, the locked draft, the
case history and the notification emails."""

import uuid

from django.utils import timezone

from ..models import (
    ReferralDraft,
    ReferralEvent,
)
from ..tasks import NotificationKind


class ReferralRefused(Exception):
    """The action is not allowed; the message says why, in plain words."""


def _locked_draft(draft: ReferralDraft) -> ReferralDraft:
    locked = ReferralDraft.objects.select_for_update().get(pk=draft.pk)
    if locked.is_submitted:
        raise ReferralRefused(
            f"This referral was already submitted as {locked.referral.reference}."
        )
    return locked


def _event(referral, kind, from_status, to_status, user, message) -> ReferralEvent:
    event = ReferralEvent(
        referral=referral,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=user,
        actor_label=user.get_full_name() or user.get_username(),
        organisation_label=str(user.organisation or ""),
        at=timezone.now(),
        message=message,
    )
    event.full_clean()
    event.save()
    return event


def _notify(referral_id: int, kind: NotificationKind) -> None:
    from ..tasks import send_referral_notifications

    # Names this event in the outbox, so a rerun of the task emails nobody twice.
    send_referral_notifications.enqueue(referral_id, kind, uuid.uuid4().hex)
