"""Emails about referrals, sent after the change that caused them commits.

Emails never carry personal data: only the reference, whether it is urgent,
and a link to sign in and read the rest.
"""

import logging
from enum import StrEnum

from django.core.mail import send_mail
from django.template.loader import render_to_string
from django_tasks import task

from accounts.models import Role, User
from portal.addresses import absolute_url

from .models import Referral

logger = logging.getLogger(__name__)


class NotificationKind(StrEnum):
    """Why a referral's emails go out (the templates test these values)."""

    SUBMITTED = "submitted"
    NEWS = "news"  # the status changed
    ANSWERED = "answered"  # the referrer answered a request for information


_SUBJECTS = {
    NotificationKind.SUBMITTED: "Referral {reference} received",
    NotificationKind.NEWS: "Update on referral {reference}",
}


def coordinators() -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, groups__name=Role.COORDINATOR.value
        ).exclude(email="")
    )


@task()
def send_referral_notifications(referral_id: int, kind: str) -> int:
    """Email the referrer and, for new referrals and answers, the coordinators.

    ``kind`` is a ``NotificationKind`` value (a plain string once queued).
    Returns emails sent.
    """
    referral = Referral.objects.select_related("referrer").get(pk=referral_id)
    link = absolute_url(referral.get_absolute_url())
    context = {"referral": referral, "link": link, "kind": kind}
    sent = 0
    if kind in _SUBJECTS and referral.referrer.email and referral.referrer.is_active:
        sent += send_mail(
            _SUBJECTS[kind].format(reference=referral.reference),
            render_to_string("referrals/email/referrer.txt", context),
            None,
            [referral.referrer.email],
        )
    if kind in (NotificationKind.SUBMITTED, NotificationKind.ANSWERED):
        prefix = "URGENT: " if referral.urgent else ""
        subject = (
            f"{prefix}New CMARAC referral {referral.reference}"
            if kind == NotificationKind.SUBMITTED
            else f"{prefix}Information provided for referral {referral.reference}"
        )
        body = render_to_string("referrals/email/coordinator.txt", context)
        for coordinator in coordinators():
            sent += send_mail(subject, body, None, [coordinator.email])
    logger.info("Sent %s emails about referral %s (%s)", sent, referral_id, kind)
    return sent


@task()
def delete_stale_referral_drafts_task() -> int:
    """Delete drafts untouched for the retention period; schedule it daily, like
    ``manage.py delete_stale_referral_drafts`` from cron."""
    from .services import drafts_delete_stale

    return drafts_delete_stale()


@task()
def end_expired_referral_shares_task() -> int:
    """End shares past their end date; schedule it daily, like
    ``manage.py end_expired_referral_shares`` from cron."""
    from .services import referral_shares_end_expired

    return referral_shares_end_expired()
