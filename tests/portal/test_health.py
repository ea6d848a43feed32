"""The health check a load balancer polls: open to all, honest, and empty of data."""

import contextlib
import errno
import json
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import override_settings

from audit.services import _CHAIN_LOCK_KEY
from portal.s3 import s3_options
from tests.documents import s3
from tests.faults import closed_port, silent_server

pytestmark = pytest.mark.django_db
s3_server = s3.s3_server
s3_storage = s3.s3_storage

HEALTH = "/health/"
# Nothing listens on port 1, so every cache call fails as an unreachable Redis would.
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}
QUIET_QUEUE = {"lag_seconds": 0, "failed_tasks": 0, "undelivered_emails": 0}
STATUS_WORDS = {"ok", "off", "unavailable", "failing"}
CHECK_NAMES = {
    "database", "cache", "audit_lock", "scanner", "storage", "queue", "retention"
}  # fmt: skip
REASON_WORDS = {
    "timeout", "unreachable", "wrong answer", "stuck", "read-only", "full", "lagging",
    "overdue", "error"
}  # fmt: skip
# Development and test settings have no virus scanner: "off", not failing.
HEALTHY = {
    "database": "ok",
    "cache": "ok",
    "audit_lock": "ok",
    "scanner": "off",
    "storage": "ok",
    "queue": "ok",
    "retention": "off",  # no agreement gives retention periods in these tests
}


class _BrokenConnection:
    """Stands in for a database connection that has gone away."""

    def cursor(self):
        raise OperationalError("connection refused")


def status_words(body) -> set[str]:
    """Every string anywhere in the JSON body, keys and values alike."""
    if isinstance(body, dict):
        return set(body) | {w for v in body.values() for w in status_words(v)}
    if isinstance(body, list):
        return {w for v in body for w in status_words(v)}
    return {body}


class TestHealthCheck:
    def test_healthy_portal_answers_ok_without_signing_in(self, client):
        response = client.get(HEALTH)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "status": "ok",
            "checks": HEALTHY,
            "queue": QUIET_QUEUE,
        }

    def test_answer_is_never_cached(self, client):
        cache_control = client.get(HEALTH)["Cache-Control"]
        assert "no-cache" in cache_control
        assert "max-age=0" in cache_control

    def test_database_failure_answers_503(self, client):
        with mock.patch("portal.health.connection", _BrokenConnection()):
            response = client.get(HEALTH)
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "checks": {**HEALTHY, "database": "failing"},
            "reasons": {"database": "unreachable"},
            "queue": QUIET_QUEUE,
        }

    @override_settings(CACHES=UNREACHABLE_REDIS)
    def test_cache_failure_answers_503(self, client):
        response = client.get(HEALTH)
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "checks": {**HEALTHY, "cache": "failing"},
            "reasons": {"cache": "unreachable"},
            "queue": QUIET_QUEUE,
        }

    def test_cache_that_loses_values_answers_503(self, client):
        with mock.patch("portal.freshness.cache.get", return_value=None):
            response = client.get(HEALTH)
        assert response.status_code == 503
        assert response.json()["checks"]["cache"] == "failing"

    @override_settings(CACHES=UNREACHABLE_REDIS)
    def test_everything_failing_answers_503(self, client):
        with mock.patch("portal.health.connection", _BrokenConnection()):
            response = client.get(HEALTH)
        assert response.status_code == 503
        assert response.json()["checks"] == {
            **HEALTHY,
            "database": "failing",
            "cache": "failing",
        }

    def test_error_details_stay_out_of_the_answer(self, client):
        with mock.patch("portal.health.connection", _BrokenConnection()):
            body = client.get(HEALTH).content.decode()
        assert "refused" not in body
        assert "OperationalError" not in body


class TestHealthCheckHoldsNoPersonalData:
    def test_body_is_only_status_words(self, verified_client, user):
        # Even asked by a signed-in person, it says nothing about them.
        response = verified_client.get(HEALTH)
        body = response.json()
        assert body.pop("queue") == QUIET_QUEUE  # counts only
        words = status_words(body)
        assert words - {"status", "checks"} - CHECK_NAMES <= STATUS_WORDS
        body = response.content.decode()
        for detail in (user.username, user.email, user.last_name):
            assert detail not in body

    def test_sets_no_cookie(self, client):
        assert not client.get(HEALTH).cookies


class TestHealthCheckOverPlainHttp:
    @override_settings(SECURE_SSL_REDIRECT=True)
    def test_load_balancer_probe_over_http_is_not_redirected(self, client):
        assert client.get(HEALTH).status_code == 200
        # The rest of the portal still is.
        assert client.get("/sign-in/").status_code == 301


def health(client) -> tuple[int, dict]:
    response = client.get(HEALTH)
    return response.status_code, response.json()


@contextmanager
def answering_pong():
    """A clamd stand-in that answers PING with PONG."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                with connection:
                    connection.recv(64)
                    connection.sendall(b"PONG\0")

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


class TestScannerCheck:
    def test_answering_scanner_is_ok(self, client, settings):
        with answering_pong() as port:
            settings.CLAMAV_ADDRESS = f"127.0.0.1:{port}"
            status, body = health(client)
        assert status == 200
        assert body["checks"]["scanner"] == "ok"

    def test_stopped_scanner_answers_503(self, client, settings):
        settings.CLAMAV_ADDRESS = f"127.0.0.1:{closed_port()}"
        status, body = health(client)
        assert status == 503
        assert body["checks"] == {**HEALTHY, "scanner": "failing"}
        assert body["reasons"] == {"scanner": "unreachable"}

    def test_hung_scanner_fails_within_the_health_timeout(self, client, settings):
        settings.HEALTH_CHECK_TIMEOUT = 0.5
        with silent_server() as port:
            settings.CLAMAV_ADDRESS = f"127.0.0.1:{port}"
            started = time.monotonic()
            status, body = health(client)
            elapsed = time.monotonic() - started
        assert status == 503
        assert body["checks"]["scanner"] == "failing"
        assert elapsed < 2

    def test_no_address_leaks_into_the_answer(self, client, settings):
        settings.CLAMAV_ADDRESS = f"127.0.0.1:{closed_port()}"
        body = client.get(HEALTH).content.decode()
        assert "127.0.0.1" not in body
        assert "refused" not in body.lower()


class TestStorageCheck:
    def test_full_disk_answers_503(self, client, settings):
        # More than the disk holds: no room for one more upload.
        settings.DOCUMENTS_MAX_UPLOAD_BYTES = 1 << 62
        status, body = health(client)
        assert status == 503
        assert body["reasons"] == {"storage": "full"}

    def test_read_only_disk_answers_503(self, client, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        real = tempfile.TemporaryFile

        def read_only(*args, **kwargs):
            if kwargs.get("dir") == tmp_path:
                raise OSError(errno.EROFS, "Read-only file system")
            return real(*args, **kwargs)

        with mock.patch("files.health.tempfile.TemporaryFile", read_only):
            status, body = health(client)
        assert status == 503
        assert body["reasons"] == {"storage": "read-only"}

    def test_s3_bucket_reachable_is_ok(self, client, settings, s3_storage):
        settings.STORAGES = s3_settings(s3_storage.bucket_name, s3_storage.endpoint_url)
        status, body = health(client)
        assert status == 200, body
        assert body["checks"]["storage"] == "ok"

    def test_s3_stopped_answers_503(self, client, settings):
        endpoint = f"http://127.0.0.1:{closed_port()}"
        settings.STORAGES = s3_settings("portal-private-files", endpoint)
        status, body = health(client)
        assert status == 503
        assert body["checks"]["storage"] == "failing"
        assert "portal-private-files" not in json.dumps(body)

    def test_s3_hung_fails_within_the_health_timeout(self, client, settings):
        settings.HEALTH_CHECK_TIMEOUT = 0.5
        with silent_server() as port:
            settings.STORAGES = s3_settings("bucket", f"http://127.0.0.1:{port}")
            started = time.monotonic()
            status, body = health(client)
            elapsed = time.monotonic() - started
        assert status == 503
        assert body["reasons"] == {"storage": "timeout"}
        assert elapsed < 2


def s3_settings(bucket: str, endpoint_url: str) -> dict:
    from django.conf import settings

    options = s3_options(
        bucket=bucket,
        region=s3.REGION,
        endpoint_url=endpoint_url,
        access_key=s3.ACCESS_KEY,
        secret_key=s3.SECRET_KEY,
    )
    return {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }


class TestAuditLockCheck:
    def test_a_stuck_chain_lock_answers_503(self, client, settings):
        if connection.vendor != "postgresql":
            pytest.skip("The chain's lock is a PostgreSQL advisory lock")
        settings.HEALTH_CHECK_TIMEOUT = 0.5
        holder = psycopg_connection()
        try:
            holder.execute("BEGIN")
            holder.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])
            status, body = health(client)
        finally:
            holder.close()
        assert status == 503
        assert body["reasons"] == {"audit_lock": "stuck"}
        # Released: healthy again.
        assert health(client)[0] == 200


def psycopg_connection():
    """A second session on the test database, as another app server would be."""
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params["dbname"] = connection.settings_dict["NAME"]
    return psycopg.connect(**params, autocommit=True)


class TestRegistry:
    def test_adding_a_check_is_one_line(self, client, settings):
        settings.HEALTH_CHECKS = {
            **settings.HEALTH_CHECKS,
            "mailbox": "tests.portal.test_health.lagging_mailbox",
        }
        status, body = health(client)
        assert status == 503
        assert body["checks"] == {**HEALTHY, "mailbox": "failing"}
        assert body["reasons"] == {"mailbox": "timeout"}

    def test_a_check_cannot_leak_details_through_its_reason(self, client, settings):
        settings.HEALTH_CHECKS = {"leaky": "tests.portal.test_health.leaky"}
        status, body = health(client)
        assert body == {
            "status": "unavailable",
            "checks": {"leaky": "failing"},
            "reasons": {"leaky": "error"},
        }


def lagging_mailbox() -> str:
    raise TimeoutError("oldest message waiting 900 s")


def leaky() -> str:
    return "bucket portal-private-files at s3.internal refused"
