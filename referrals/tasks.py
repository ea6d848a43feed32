"""Emails about referrals, sent after the change that caused them commits.

Emails never carry personal data: only the reference, whether it is urgent,
and a link to sign in and read the rest.
"""

import logging
from enum import StrEnum

from django.db import transaction
from django.template.loader import render_to_string
from django_tasks import task

from accounts.models import Organisation, Role, User, staff_to_email
from jobs.mail import email_queue
from portal.addresses import absolute_url

from .models import Referral, ReferralAmendment

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
def send_referral_notifications(referral_id: int, kind: str, event: str = "") -> int:
    """Queue emails to the referrer and, for new referrals and answers, the
    coordinators; the worker delivers them with retries (jobs.mail).

    ``kind`` is a ``NotificationKind`` value (a plain string once queued);
    ``event`` names this one occasion, so a rerun of the task queues nobody
    twice. Returns emails queued.
    """
    referral = Referral.objects.select_related("referrer").get(pk=referral_id)
    link = absolute_url(referral.get_absolute_url())
    context = {"referral": referral, "link": link, "kind": kind}
    event = f"referral-{referral_id}-{kind}-{event}"
    queued = 0
    with transaction.atomic():
        referrer = referral.referrer
        if kind in _SUBJECTS and referrer.email and referrer.is_active:
            queued += email_queue(
                event=f"{event}-referrer",
                to=referrer.email,
                subject=_SUBJECTS[kind].format(reference=referral.reference),
                body=render_to_string("referrals/email/referrer.txt", context),
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
                queued += email_queue(
                    event=f"{event}-coordinator",
                    to=coordinator.email,
                    subject=subject,
                    body=body,
                )
    logger.info("Queued %s emails about referral %s (%s)", queued, referral_id, kind)
    return queued


@task()
def send_amendment_notifications(
    amendment_id: int, organisation_ids: list[int], event: str = ""
) -> int:
    """Tell the staff of each organisation that received a case that one of
    its answers was corrected (UK GDPR Article 19): the reference and a link,
    no personal data, not the answer. ``event`` names this correction, so a
    rerun queues nobody twice. Returns emails queued."""
    amendment = ReferralAmendment.objects.select_related("referral").get(
        pk=amendment_id
    )
    referral = amendment.referral
    context = {"referral": referral, "link": absolute_url(referral.get_absolute_url())}
    body = render_to_string("referrals/email/amended.txt", context)
    queued = 0
    with transaction.atomic():
        for organisation in Organisation.objects.taking_part().filter(
            pk__in=organisation_ids
        ):
            for person in staff_to_email(organisation):
                queued += email_queue(
                    event=f"referral-{referral.pk}-amended-{amendment.version}-{event}",
                    to=person.email,
                    subject=f"Referral {referral.reference} corrected",
                    body=body,
                )
    logger.info(
        "Queued %s emails about correction %s of referral %s",
        queued, amendment.version, referral.pk,
    )  # fmt: skip
    return queued


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
