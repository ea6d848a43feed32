"""Unusual activity, found in the audit log and raised as alerts.

``alerts_raise`` (the ``raise_activity_alerts`` job) reads the last day's
audit events and raises an alert, with its evidence (event ids, count, the
user's id), to the DPO and coordinators when:

- one person is refused (outcome "denied") ``ALERT_DENIALS_COUNT`` times
  within ``ALERT_DENIALS_MINUTES``;
- one person downloads case material ``ALERT_BULK_DOWNLOADS_COUNT`` times
  within ``ALERT_BULK_DOWNLOADS_MINUTES``;
- one person downloads case material outside working hours (working days,
  ``portal.calendar``, between ``WORKING_HOURS_START`` and ``_END``),
  ``ALERT_OUT_OF_HOURS_COUNT`` times or more;
- one person downloads ``ALERT_PACK_DOWNLOADS_COUNT`` meeting packs within
  ``ALERT_PACK_DOWNLOADS_HOURS``.

An event is evidence for one alert of each kind only (``AlertEvidence``'s
unique constraint), so running the job again, or twice at once, raises
nothing twice; events already used are left out before counting.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.models import Outcome
from audit.selectors import audit_events
from audit.services import audit_record
from documents.audit_actions import DocumentAction
from jobs.mail import email_queue
from meetings.audit_actions import MeetingAction
from portal.calendar import is_working_day
from portal.dates import long_datetime
from referrals.audit_actions import ReferralAction

from .audit_actions import IncidentAction
from .models import Alert, AlertEvidence, AlertKind
from .people import handlers_to_email

logger = logging.getLogger(__name__)

# Downloads of case material: shared files, attachments, case summaries,
# meeting packs and minutes.
DOWNLOAD_ACTIONS = (
    DocumentAction.DOWNLOADED,
    ReferralAction.ATTACHMENT_DOWNLOADED,
    ReferralAction.PDF_DOWNLOADED,
    MeetingAction.PACK_DOWNLOADED,
    MeetingAction.MINUTES_DOWNLOADED,
)
LOOK_BACK = timedelta(days=1)


@dataclass(frozen=True)
class Seen:
    id: int
    at: datetime
    actor_id: int


def _events(kind: str, since: datetime, **filters) -> dict[int, list[Seen]]:
    """Events since ``since`` not yet used for an alert of ``kind``, by actor."""
    used = AlertEvidence.objects.filter(kind=kind).values("event_id")
    rows = (
        audit_events()
        .filter(at__gte=since, actor__isnull=False, **filters)
        .exclude(pk__in=used)
        .order_by("at", "pk")
        .values_list("pk", "at", "actor_id")
    )
    by_actor: dict[int, list[Seen]] = defaultdict(list)
    for pk, at, actor_id in rows:
        by_actor[actor_id].append(Seen(pk, at, actor_id))
    return by_actor


def bursts(events: list[Seen], window: timedelta, threshold: int) -> list[list[Seen]]:
    """Runs of at least ``threshold`` events within ``window`` of the run's
    first, each event in one run at most (events in time order)."""
    found, start = [], 0
    while start < len(events):
        end = start
        while end < len(events) and events[end].at - events[start].at <= window:
            end += 1
        if end - start >= threshold:
            found.append(events[start:end])
            start = end
        else:
            start += 1
    return found


def out_of_hours(at: datetime) -> bool:
    local = timezone.localtime(at)
    return (
        not is_working_day(local.date())
        or local.hour < settings.WORKING_HOURS_START
        or local.hour >= settings.WORKING_HOURS_END
    )


def alerts_raise(*, now: datetime | None = None) -> list[Alert]:
    """Raise every alert the last day's events call for; returns them."""
    now = now or timezone.now()
    since = now - LOOK_BACK
    raised: list[Alert] = []
    rules = (
        (
            AlertKind.DENIALS,
            {"outcome": Outcome.DENIED},
            timedelta(minutes=settings.ALERT_DENIALS_MINUTES),
            settings.ALERT_DENIALS_COUNT,
        ),
        (
            AlertKind.BULK_DOWNLOADS,
            {"action__in": DOWNLOAD_ACTIONS, "outcome": Outcome.SUCCESS},
            timedelta(minutes=settings.ALERT_BULK_DOWNLOADS_MINUTES),
            settings.ALERT_BULK_DOWNLOADS_COUNT,
        ),
        (
            AlertKind.PACK_DOWNLOADS,
            {"action": MeetingAction.PACK_DOWNLOADED, "outcome": Outcome.SUCCESS},
            timedelta(hours=settings.ALERT_PACK_DOWNLOADS_HOURS),
            settings.ALERT_PACK_DOWNLOADS_COUNT,
        ),
    )
    for kind, filters, window, threshold in rules:
        for events in _events(kind, since, **filters).values():
            for run in bursts(events, window, threshold):
                raised += _raise(kind, run, now)
    late = _events(
        AlertKind.OUT_OF_HOURS,
        since,
        action__in=DOWNLOAD_ACTIONS,
        outcome=Outcome.SUCCESS,
    )
    for events in late.values():
        outside = [e for e in events if out_of_hours(e.at)]
        if len(outside) >= settings.ALERT_OUT_OF_HOURS_COUNT:
            raised += _raise(AlertKind.OUT_OF_HOURS, outside, now)
    return raised


def _raise(kind: str, events: list[Seen], now: datetime) -> list[Alert]:
    ids = [e.id for e in events]
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                kind=kind,
                user_id=events[0].actor_id,
                raised_at=now,
                first_at=events[0].at,
                last_at=events[-1].at,
                count=len(events),
                event_ids=ids,
            )
            AlertEvidence.objects.bulk_create(
                AlertEvidence(alert=alert, kind=kind, event_id=pk) for pk in ids
            )
            audit_record(
                action=IncidentAction.ALERT_RAISED,
                obj=alert,
                detail={
                    "kind": kind,
                    "count": len(ids),
                    "first_id": min(ids),
                    "last_id": max(ids),
                    "owner": events[0].actor_id,
                },
            )
            _email(alert)
    except IntegrityError:
        # Another run took this evidence first: its alert stands.
        logger.info("Alert evidence already used; %s alert not raised again", kind)
        return []
    return [alert]


def _email(alert: Alert) -> None:
    """Ids and counts only: the alert's page says who and what."""
    link = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + alert.get_absolute_url()
    ids = ", ".join(str(pk) for pk in alert.event_ids[:50])
    more = " and more" if len(alert.event_ids) > 50 else ""
    body = (
        f"Unusual activity alert {alert.reference}: "
        f"{alert.get_kind_display().lower()}.\n\n"
        f"User id {alert.user_id}: {alert.count} events between "
        f"{long_datetime(alert.first_at)} and {long_datetime(alert.last_at)}.\n\n"
        f"Audit event ids: {ids}{more}.\n\n"
        f"Open it in the portal, and open an incident from it if needed: {link}\n"
    )
    for person in handlers_to_email():
        email_queue(
            event=f"alert:{alert.pk}",
            to=person.email,
            subject=f"Unusual activity alert {alert.reference}",
            body=body,
        )
