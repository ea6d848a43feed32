"""The scheduled jobs that dispose of housekeeping records: expired sessions,
django-axes' access logs and finished outbox emails (docs/retention.md)."""

from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessLog
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from jobs.schedule import JOBS

pytestmark = pytest.mark.django_db


def _run(command: str) -> None:
    call_command(command, *JOBS[command].args, stdout=StringIO())


def test_clearsessions_deletes_expired_sessions_only():
    now = timezone.now()
    Session.objects.create(session_key="a" * 32, session_data="x",
                           expire_date=now - timedelta(minutes=1))  # fmt: skip
    Session.objects.create(session_key="b" * 32, session_data="x",
                           expire_date=now + timedelta(hours=1))  # fmt: skip
    _run("clearsessions")
    assert list(Session.objects.values_list("session_key", flat=True)) == ["b" * 32]


def test_axes_access_logs_go_after_90_days():
    old = AccessLog.objects.create(username="someone", ip_address="192.0.2.1",
                                   user_agent="test", path_info="/")  # fmt: skip
    AccessLog.objects.filter(pk=old.pk).update(
        attempt_time=timezone.now() - timedelta(days=91)
    )
    recent = AccessLog.objects.create(username="someone", ip_address="192.0.2.1",
                                      user_agent="test", path_info="/")  # fmt: skip
    _run("axes_reset_logs")
    assert list(AccessLog.objects.all()) == [recent]


def test_sent_and_failed_emails_go_after_90_days_queued_ones_stay():
    from jobs.mail import outgoing_emails_sweep
    from jobs.models import EmailStatus, OutgoingEmail

    now = timezone.now()

    def email(n, status):
        row = OutgoingEmail.objects.create(
            event=f"e{n}", to=f"p{n}@example.org", subject="s", body="b",
            status=status, next_attempt_at=now + timedelta(days=1),
            sent_at=now if status == EmailStatus.SENT else None,
        )  # fmt: skip
        OutgoingEmail.objects.filter(pk=row.pk).update(
            created_at=now - timedelta(days=91)
        )
        return row

    email(1, EmailStatus.SENT)
    email(2, EmailStatus.FAILED)
    waiting = email(3, EmailStatus.PENDING)
    outgoing_emails_sweep(now=now)
    assert list(OutgoingEmail.objects.all()) == [waiting]
