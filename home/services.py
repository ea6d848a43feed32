"""Keeping guidance right: owners are reminded when a page is due for review."""

import logging

from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from jobs.mail import email_queue
from portal.addresses import absolute_url

from .audit_actions import HomeAction
from .models import GuidancePage

logger = logging.getLogger(__name__)


def guidance_due(today=None):
    """Live guidance whose review date has passed, oldest first."""
    today = today or timezone.localdate()
    return (
        GuidancePage.objects.live()
        .filter(review_by__lt=today)
        .select_related("owner_person")
        .order_by("review_by", "title")
    )


def guidance_review_reminders_send(*, today=None) -> int:
    """Email each owner once per review date about their overdue pages;
    returns how many reminders were sent."""
    today = today or timezone.localdate()
    sent = 0
    for page in guidance_due(today).filter(owner_person__is_active=True):
        if page.review_reminder_sent_for == page.review_by:
            continue
        owner = page.owner_person
        with transaction.atomic():
            locked = GuidancePage.objects.select_for_update().get(pk=page.pk)
            if locked.review_reminder_sent_for == locked.review_by:
                continue
            if owner.email:
                link = absolute_url(reverse("wagtailadmin_pages:edit", args=[page.pk]))
                # Queued in this transaction, so it goes out (with retries,
                # jobs.mail) exactly when the reminder is marked sent.
                email_queue(
                    event=f"guidance-{page.pk}-review-{locked.review_by.isoformat()}",
                    to=owner.email,
                    subject=f"Guidance due for review: {page.title}",
                    body=render_to_string(
                        "home/email/guidance_review.txt",
                        {"page": locked, "owner": owner, "link": link},
                    ),
                )
                sent += 1
            # update() keeps the page's revisions and live content as they are.
            GuidancePage.objects.filter(pk=page.pk).update(
                review_reminder_sent_for=locked.review_by
            )
            audit_record(
                action=HomeAction.GUIDANCE_REVIEW_REMINDER_SENT,
                obj=locked,
                detail={"owner": owner.pk, "review_by": locked.review_by.isoformat()},
            )
    return sent
