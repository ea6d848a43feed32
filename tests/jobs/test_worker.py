"""The real worker (``manage.py run_worker``, a separate process) against the
test database, SQLite or PostgreSQL (DATABASE_URL), with a real SMTP server
that is down, comes back, or hangs."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from accounts.roles import roles_sync
from audit.audit_actions import AuditAction
from audit.models import AuditEvent, AuditPendingEvent
from audit.services import audit_chain_verify, audit_record
from jobs.mail import email_queue
from jobs.models import EmailStatus, OutgoingEmail
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory

from .smtp import TinySMTPServer, free_port

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def queue(settings):
    """The database queue in this process too, so enqueued tasks wait for
    the worker instead of running here."""
    settings.TASKS = DATABASE_QUEUE
    settings.EMAIL_RETRY_DELAYS = [1, 1, 1, 1]


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def worker(queue, smtp_port):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.jobs.worker_settings",
        "JOBS_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]),
        "JOBS_TEST_SMTP_PORT": str(smtp_port),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--no-reload",
         "--no-startup-delay", "--interval", "0.2", "--no-schedule"],
        cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for(condition, *, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    pytest.fail(f"Timed out after {timeout} s")


def queue_one(event="referral-1-submitted", to="coordinator@example.org"):
    with transaction.atomic():
        email_queue(event=event, to=to, subject="New CMARAC referral", body="Link")
    return OutgoingEmail.objects.get(event=event, to=to)


def test_a_refused_email_is_retried_and_delivered_when_the_server_returns(
    worker, smtp_port
):
    email = queue_one()
    # Nothing listens yet: the first attempt is refused and a retry is queued.
    wait_for(lambda: OutgoingEmail.objects.filter(pk=email.pk, attempts__gte=1)
             .exclude(last_error="").exists())  # fmt: skip
    assert OutgoingEmail.objects.get(pk=email.pk).status != EmailStatus.SENT
    server = TinySMTPServer(smtp_port)
    try:
        wait_for(
            lambda: OutgoingEmail.objects.filter(
                pk=email.pk, status=EmailStatus.SENT
            ).exists()
        )
    finally:
        server.stop()
    assert len(server.messages) == 1
    assert b"Subject: New CMARAC referral" in server.messages[0]
    assert b"To: coordinator@example.org" in server.messages[0]
    sent = OutgoingEmail.objects.get(pk=email.pk)
    assert sent.attempts >= 2
    assert sent.body == ""  # nothing kept once delivered
    # Every attempt's task finished; none failed.
    assert not DBTaskResult.objects.failed().exists()


def test_a_rolled_back_change_sends_nothing(worker, smtp_port):
    server = TinySMTPServer(smtp_port)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            email_queue(event="e", to="a@example.org", subject="S", body="B")
            raise RuntimeError("the change fails")
        queue_one(event="later")
        wait_for(lambda: server.messages)
    finally:
        server.stop()
    assert not OutgoingEmail.objects.filter(event="e").exists()
    assert len(server.messages) == 1  # only the later, committed one


def test_a_hung_server_holds_neither_the_request_nor_the_worker(worker, smtp_port):
    server = TinySMTPServer(smtp_port, hang=True)
    try:
        started = time.monotonic()
        email = queue_one()
        # What a request does: write its change and the email, and commit.
        assert time.monotonic() - started < 1
        # The worker gives up the attempt at EMAIL_TIMEOUT (2 s here) and
        # schedules a retry rather than waiting for ever.
        wait_for(
            lambda: (
                OutgoingEmail.objects.filter(
                    pk=email.pk, attempts__gte=1, status=EmailStatus.PENDING
                )
                .exclude(last_error="")
                .first()
            ),
            timeout=90,
        )
    finally:
        server.stop()
    assert "timed out" in OutgoingEmail.objects.get(pk=email.pk).last_error


def test_an_email_that_keeps_failing_is_shown_to_coordinators(worker, client):
    email = queue_one()  # no server at all: every attempt is refused
    wait_for(
        lambda: OutgoingEmail.objects.filter(
            pk=email.pk, status=EmailStatus.FAILED
        ).exists(),
        timeout=90,
    )
    failed = OutgoingEmail.objects.get(pk=email.pk)
    assert failed.attempts == 5  # the first try and four retries
    wait_for(lambda: DBTaskResult.objects.failed().exists())

    health = client.get("/health/").json()
    assert health["queue"]["failed_tasks"] == 1
    assert health["queue"]["undelivered_emails"] == 1
    assert health["checks"]["queue"] == "ok"  # failures are counted, not fatal

    roles_sync()
    coordinator = UserFactory(
        organisation=OrganisationFactory(), roles=[Role.COORDINATOR.value]
    )
    browser = verified_client_for(coordinator)
    emails = browser.get("/admin/jobs/outgoingemail/?status__exact=failed")
    assert emails.status_code == 200
    assert "coordinator@example.org" in emails.content.decode()
    tasks = browser.get(
        "/admin/django_tasks_database/dbtaskresult/?status__exact=FAILED"
    )
    assert tasks.status_code == 200
    assert "deliver_email" in tasks.content.decode()


def test_a_stopped_worker_shows_as_queue_lag(queue, client, settings):
    settings.TASKS_MAX_LAG_SECONDS = 0
    queue_one()
    time.sleep(1.1)
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"] == "failing"
    assert response.json()["queue"]["lag_seconds"] >= 1


def test_the_worker_chains_audit_events_writers_left_pending(worker):
    # Writers under load chain at most once per AUDIT_CHAIN_INTERVAL_MS each
    # (issue 23): an event recorded when it was not this writer's turn waits
    # until the worker's audit sequencer chains it, about a second later.
    with mock.patch("audit.services._chain_due", return_value=False):
        audit_record(action=AuditAction.READ, object_type="test.sequenced")
    assert AuditPendingEvent.objects.count() == 1
    wait_for(
        lambda: AuditEvent.objects.filter(object_type="test.sequenced").exists(),
        timeout=30,
    )
    assert not AuditPendingEvent.objects.exists()
    assert audit_chain_verify().intact
