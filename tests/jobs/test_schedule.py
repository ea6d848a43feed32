"""One schedule, as data, shown in docs/operations.md and run once a slot."""

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from jobs.models import ScheduledRun
from jobs.schedule import JOBS, SCHEDULE, schedule_table, schedule_tick

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
LONDON = ZoneInfo("Europe/London")


def test_the_operations_guide_shows_the_schedule_as_it_is():
    # Regenerate with: manage.py run_schedule --table
    assert schedule_table() in OPERATIONS.read_text()


def test_every_job_is_a_command_that_exists():
    from django.core.management import get_commands

    assert set(JOBS) <= set(get_commands())
    assert len(JOBS) == len(SCHEDULE)


def test_a_daily_job_is_due_from_its_time_until_the_next_day():
    job = JOBS["send_agreement_reminders"]  # 07:15
    before = datetime(2026, 3, 10, 7, 14, tzinfo=LONDON)
    after = datetime(2026, 3, 10, 7, 15, tzinfo=LONDON)
    assert job.latest_slot(before) == datetime(2026, 3, 9, 7, 15, tzinfo=LONDON)
    assert job.latest_slot(after) == datetime(2026, 3, 10, 7, 15, tzinfo=LONDON)
    # Local time, across the change to summer time.
    summer = datetime(2026, 4, 1, 8, 0, tzinfo=LONDON)
    assert job.latest_slot(summer).astimezone(LONDON).hour == 7


@pytest.mark.django_db
def test_each_slot_runs_once_however_often_the_worker_looks(settings):
    # Enqueued for the worker, not run here.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    now = datetime(2026, 3, 10, 7, 16, tzinfo=LONDON)
    first = schedule_tick(now=now)
    assert sorted(first) == sorted(JOBS)  # a fresh install catches up once
    assert schedule_tick(now=now) == []
    later = datetime(2026, 3, 10, 7, 21, tzinfo=LONDON)
    # Five minutes on: the two sweeps' and the board figures' next slots, the
    # audit chain's sweep (every minute: one slot, however many were
    # missed), and guidance at 07:20.
    assert sorted(schedule_tick(now=later)) == [
        "audit_chain",
        "refresh_board_figures",
        "requeue_stuck_tasks",
        "send_guidance_review_reminders",
        "send_queued_emails",
    ]
    assert ScheduledRun.objects.count() == len(JOBS) + 5


@pytest.mark.django_db
def test_the_table_command_prints_the_schedule(capsys):
    call_command("run_schedule", "--table")
    assert capsys.readouterr().out == schedule_table()
