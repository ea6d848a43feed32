"""Notices are kept for DJANGO_NOTICE_RETENTION_DAYS, read or not, then the
daily delete_old_notices job removes them (docs/retention.md)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from jobs.schedule import JOBS
from notices.audit_actions import NoticeAction
from notices.models import Notice, NoticeKind
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _notice(person, event, age_days, read=False):
    created = timezone.now() - timedelta(days=age_days)
    return Notice.objects.create(
        recipient=person,
        kind=NoticeKind.CASE_SHARED,
        title="Case CM-2026-0001 shared with your organisation",
        link="/referrals/",
        event=event,
        created_at=created,
        read_at=created if read else None,
    )


def test_the_day_after_the_period_read_or_not_they_go(settings):
    settings.NOTICE_RETENTION_DAYS = 180
    person = UserFactory()
    kept = _notice(person, "kept", age_days=179)
    _notice(person, "old-read", age_days=181, read=True)
    _notice(person, "old-unread", age_days=181)
    out = StringIO()
    call_command("delete_old_notices", *JOBS["delete_old_notices"].args, stdout=out)
    assert list(Notice.objects.values_list("pk", flat=True)) == [kept.pk]
    assert "Deleted 2 notices older than 180 days" in out.getvalue()
    event = AuditEvent.objects.get(action=NoticeAction.DELETED_OLD)
    assert event.detail == {"count": 2, "days": 180}


def test_a_shorter_setting_takes_more(settings):
    settings.NOTICE_RETENTION_DAYS = 30
    person = UserFactory()
    _notice(person, "a", age_days=31)
    recent = _notice(person, "b", age_days=29)
    call_command("delete_old_notices", stdout=StringIO())
    assert list(Notice.objects.values_list("pk", flat=True)) == [recent.pk]
