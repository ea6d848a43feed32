"""Meetings with agendas, built through the services like a coordinator would."""

from datetime import datetime, timedelta

from django.utils import timezone

from accounts.models import Role
from meetings.models import Meeting
from meetings.services import agenda_item_add, meeting_schedule
from referrals.models import FreeTextReviewKind, Status
from referrals.redaction import needs_free_text_review
from referrals.services import free_text_review_record, referral_transition

from . import UserFactory


def coordinator():
    return UserFactory(roles=[Role.COORDINATOR])


def accepted(referral, by=None, *, summary=""):
    """Screen and accept a submitted referral, checking the free text first
    when it is flagged (confirmed safe, or replaced by ``summary``)."""
    by = by or coordinator()
    for to in (Status.SCREENING, Status.ACCEPTED):
        if to == Status.ACCEPTED and (summary or needs_free_text_review(referral)):
            free_text_review_record(
                referral=referral,
                user=by,
                kind=FreeTextReviewKind.SUMMARY
                if summary
                else FreeTextReviewKind.CONFIRMED,
                summary=summary,
            )
        referral = referral_transition(
            referral=referral, to_status=to, user=by, expected_status=referral.status
        )
    return referral


def meeting(by=None, *, days_ahead=14, **options):
    by = by or coordinator()
    starts = timezone.make_aware(
        datetime.combine(timezone.localdate() + timedelta(days=days_ahead),
                         datetime.min.time().replace(hour=10))
    )  # fmt: skip
    options.setdefault("location", "Committee room 2, Town Hall")
    return meeting_schedule(user=by, starts_at=starts, chair=by, **options)


def on_agenda(meeting_, referral, invited, by=None):
    by = by or coordinator()
    return agenda_item_add(
        meeting=meeting_, referral=referral, invited=invited, user=by
    )


def started(meeting_, *, hours_ago=1):
    """Move a meeting's start into the past, as if it has begun: scheduling
    only goes ahead, and a meeting is marked held only once it has started."""
    Meeting.objects.filter(pk=meeting_.pk).update(
        starts_at=timezone.now() - timedelta(hours=hours_ago)
    )
    meeting_.refresh_from_db()
    return meeting_


def confirmed(meeting_, person):
    """``person`` with the meeting's confidentiality statement confirmed, as
    everyone must before downloading its pack or minutes; returns them. Written
    straight to the register, so that it works for any reader a test makes
    (the rules of confirming are tested in tests/meetings/test_attendance_replies.py).
    """
    from meetings.models import Attendance

    Attendance.objects.update_or_create(
        meeting=meeting_,
        user=person,
        defaults={
            "organisation_id": person.organisation_id,
            "name": f"{person.get_full_name() or person.get_username()} {person.pk}",
            "confidentiality_confirmed_at": timezone.now(),
        },
    )
    return person
