"""PostgreSQL's statement and lock timeouts end a stuck request with the plain
503 page, instead of holding the worker until gunicorn kills it.

PostgreSQL only (``DATABASE_URL=postgres://...``): SQLite has neither limit.
The limits are lowered for the test so it takes a second, not ten.
"""

import time
from unittest import mock

import pytest
from django.db import connection, transaction
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent, AuditPendingEvent
from audit.selectors import audit_events
from audit.services import _CHAIN_LOCK_KEY, audit_chain_verify
from referrals.models import ReferralDraft
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.portal.test_health import psycopg_connection

pytestmark = pytest.mark.django_db

PROBLEM = "Sorry, there is a problem with the service"


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout and lock_timeout are PostgreSQL settings")
    yield
    # Back to the limits the connection was opened with, for later tests.
    with connection.cursor() as cursor:
        cursor.execute("RESET statement_timeout")
        cursor.execute("RESET lock_timeout")


def test_web_connections_carry_the_limits_from_settings():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == ("10s",)
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone() == ("5s",)


def test_a_slow_query_gets_the_problem_page_in_time():
    person = UserFactory()
    client = verified_client_for(person)
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 300")

    def slow(*args, **kwargs):
        # A savepoint, as every service's atomic block makes: the cancelled
        # statement is rolled back without ending the test's transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(5)")

    started = time.monotonic()
    with mock.patch("accounts.views.BackupCodeDevice.objects.filter", slow):
        response = client.get(reverse("accounts:account"))
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response["Retry-After"]
    page = response.content.decode()
    assert PROBLEM in page
    assert "did not answer in time" in page


@pytest.mark.django_db(transaction=True)
def test_a_stuck_audit_lock_no_longer_holds_up_requests():
    """Another session holds the audit chain's lock and never lets go. Writers
    no longer wait for it (audit.services): starting a referral (which is
    audited) is served at once and saves its draft, and its event waits,
    committed and signed, until the lock is free; then it joins the chain.
    Committed for real (transaction=True): inside a test's own transaction
    this session would already hold the lock."""
    referrer = UserFactory(roles=[Role.REFERRER])
    client = verified_client_for(referrer)
    drafts = ReferralDraft.objects.count()
    events = AuditEvent.objects.count()
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = 500")
    holder = psycopg_connection()
    try:
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
        started = time.monotonic()
        response = client.post(reverse("referrals:start"))
        elapsed = time.monotonic() - started
        assert elapsed < 3
        assert response.status_code == 302
        assert ReferralDraft.objects.count() == drafts + 1
        waiting = AuditPendingEvent.objects.get()
        assert waiting.actor_id == referrer.pk
        assert AuditEvent.objects.count() == events
    finally:
        holder.close()
    # The lock is free: the next reader of the log chains the event first.
    assert audit_events().filter(actor=referrer, action=waiting.action).exists()
    assert not AuditPendingEvent.objects.exists()
    assert audit_chain_verify().intact
