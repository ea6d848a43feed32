"""The health check a load balancer polls: open to all, honest, and empty of data."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import override_settings

pytestmark = pytest.mark.django_db

HEALTH = "/health/"
# Nothing listens on port 1, so every cache call fails as an unreachable Redis would.
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}
STATUS_WORDS = {"ok", "unavailable", "failing"}
QUIET_QUEUE = {"lag_seconds": 0, "failed_tasks": 0, "undelivered_emails": 0}


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
            "checks": {"database": "ok", "cache": "ok", "queue": "ok"},
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
        assert response.json()["status"] == "unavailable"
        assert response.json()["checks"] == {
            "database": "failing",
            "cache": "ok",
            "queue": "ok",
        }

    @override_settings(CACHES=UNREACHABLE_REDIS)
    def test_cache_failure_answers_503(self, client):
        response = client.get(HEALTH)
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "checks": {"database": "ok", "cache": "failing", "queue": "ok"},
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
            "database": "failing",
            "cache": "failing",
            "queue": "ok",
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
        assert (
            words - {"status", "checks", "database", "cache", "queue"} <= STATUS_WORDS
        )
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
