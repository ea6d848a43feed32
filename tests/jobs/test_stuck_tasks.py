"""A task whose worker was killed mid-run stays RUNNING in the database queue;
requeue_stuck_tasks marks it failed, visibly, and enqueues it again once."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from accounts.roles import roles_sync
from jobs.mail import email_queue
from jobs.models import EmailStatus, OutgoingEmail
from jobs.recovery import stuck_tasks_requeue
from jobs.tasks import deliver_email
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def queue(settings):
    settings.TASKS = DATABASE_QUEUE
    settings.TASKS_STUCK_AFTER_SECONDS = 1800


def killed_mid_run(task_result_id, *, minutes_ago: int) -> DBTaskResult:
    """What a worker killed while running the task leaves behind."""
    row = DBTaskResult.objects.get(pk=task_result_id)
    row.claim("worker-that-was-killed")
    DBTaskResult.objects.filter(pk=row.pk).update(
        started_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return row


def queued_email() -> OutgoingEmail:
    with transaction.atomic():
        email_queue(
            event="referral-7-submitted",
            to="coordinator@example.org",
            subject="New CMARAC referral",
            body="Link",
        )
    return OutgoingEmail.objects.get(event="referral-7-submitted")


def reruns_of(row: DBTaskResult):
    return DBTaskResult.objects.filter(task_path=row.task_path).exclude(pk=row.pk)


def test_a_stuck_task_is_failed_visibly_and_run_again_once(mailoutbox):
    email = queued_email()
    stuck = killed_mid_run(deliver_email.enqueue(email.pk).id, minutes_ago=45)
    recent = killed_mid_run(deliver_email.enqueue(999).id, minutes_ago=5)

    assert stuck_tasks_requeue() == {"failed": 1, "enqueued": 1}

    stuck.refresh_from_db()
    assert stuck.status == TaskResultStatus.FAILED
    assert stuck.exception_class_path == "jobs.recovery.WorkerStopped"
    assert "The worker stopped while running this task" in stuck.traceback
    assert "worker-that-was-killed" in stuck.traceback
    # A task running for less than the limit may still be working.
    recent.refresh_from_db()
    assert recent.status == TaskResultStatus.RUNNING

    (rerun,) = reruns_of(stuck).exclude(pk=recent.pk)
    assert rerun.status == TaskResultStatus.READY
    assert rerun.args_kwargs == stuck.args_kwargs
    # Once: a second sweep finds nothing more to do.
    assert stuck_tasks_requeue() == {"failed": 0, "enqueued": 0}
    assert reruns_of(stuck).count() == 2

    # The worker runs the rerun: the email goes out, once.
    assert rerun.task.call(*rerun.args_kwargs["args"]) == "sent"
    assert [m.to for m in mailoutbox] == [["coordinator@example.org"]]
    assert OutgoingEmail.objects.get(pk=email.pk).status == EmailStatus.SENT


def test_a_rerun_that_is_stuck_too_is_not_run_a_third_time():
    first = killed_mid_run(deliver_email.enqueue(5).id, minutes_ago=120)
    assert stuck_tasks_requeue()["enqueued"] == 1
    (rerun,) = reruns_of(first)
    killed_mid_run(rerun.pk, minutes_ago=45)

    assert stuck_tasks_requeue() == {"failed": 1, "enqueued": 0}
    rerun.refresh_from_db()
    assert rerun.status == TaskResultStatus.FAILED
    assert "not enqueued again: a rerun stopped too" in rerun.traceback
    assert reruns_of(first).count() == 1


def test_the_command_reports_and_coordinators_see_the_failure(settings):
    stuck = killed_mid_run(deliver_email.enqueue(6).id, minutes_ago=31)
    out = StringIO()
    call_command("requeue_stuck_tasks", stdout=out)
    assert out.getvalue() == "Stuck tasks marked failed: 1; enqueued again: 1.\n"

    roles_sync()
    coordinator = UserFactory(
        organisation=OrganisationFactory(), roles=[Role.COORDINATOR.value]
    )
    browser = verified_client_for(coordinator)
    listing = browser.get(
        "/admin/django_tasks_database/dbtaskresult/?status__exact=FAILED"
    )
    assert listing.status_code == 200
    assert "deliver_email" in listing.content.decode()
    inspect = browser.get(
        f"/admin/django_tasks_database/dbtaskresult/inspect/{stuck.pk}/"
    )
    assert inspect.status_code == 200
    assert "The worker stopped while running this task" in inspect.content.decode()
