"""The warning before the idle sign-out: how long is left, staying signed in,
and the sign-in page saying why someone was signed out."""

import json
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from accounts import session_time
from audit.models import AuditEvent
from portal.session_keys import SESSION_SEEN_KEY, SESSION_STARTED_KEY
from tests.conftest import sign_in_with_password, verify_session

SESSION = reverse("accounts:session")
LOGIN = reverse("accounts:login")

pytestmark = pytest.mark.django_db


def _age(client, *, seen: int, started: int | None = None) -> None:
    """Make the session's last activity ``seen`` seconds ago."""
    session = client.session
    now = int(time.time())
    session[SESSION_SEEN_KEY] = now - seen
    session[SESSION_STARTED_KEY] = now - (seen if started is None else started)
    session.save()


def _seen(client) -> int:
    return client.session[SESSION_SEEN_KEY]


class TestTimeLeft:
    def test_says_how_long_is_left_without_extending_the_session(self, verified_client):
        _age(verified_client, seen=10 * 60)
        before = _seen(verified_client)
        response = verified_client.get(SESSION)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"
        assert 19 * 60 <= response.json()["seconds_left"] <= 20 * 60
        assert _seen(verified_client) == before
        assert "no-store" in response["Cache-Control"]

    def test_asking_after_the_timeout_says_none_left_and_keeps_the_session(
        self, verified_client
    ):
        # The page's script must still be able to save the answers, so only
        # a real request ends the session.
        _age(verified_client, seen=31 * 60)
        response = verified_client.get(SESSION)
        assert response.status_code == 200
        assert response.json()["seconds_left"] == 0
        assert not AuditEvent.objects.filter(action="auth.session_expired").exists()

    def test_the_absolute_lifetime_counts_too(self, verified_client):
        _age(verified_client, seen=5, started=12 * 3600 - 90)
        assert 80 <= verified_client.get(SESSION).json()["seconds_left"] <= 90

    def test_staying_signed_in_starts_the_idle_time_again(self, verified_client):
        _age(verified_client, seen=29 * 60)
        response = verified_client.post(SESSION)
        assert response.status_code == 200
        assert response.json()["seconds_left"] == 30 * 60
        assert abs(_seen(verified_client) - time.time()) <= 2
        # And the next page is served, not the sign-in page.
        assert verified_client.get(reverse("accounts:account")).status_code == 200

    def test_staying_signed_in_needs_the_csrf_token(self, user):
        client = Client(enforce_csrf_checks=True)
        sign_in_with_password(client, user)
        verify_session(client, user)
        refused = client.post(SESSION)
        assert refused.status_code == 403
        assert "seconds_left" not in refused.content.decode()
        page = client.get(reverse("accounts:account"))
        token = page.context["csrf_token"]
        response = client.post(SESSION, {"csrfmiddlewaretoken": token})
        assert response.status_code == 200
        assert response.json()["seconds_left"] == 30 * 60

    def test_staying_signed_in_too_late_sends_to_sign_in_saying_why(
        self, verified_client
    ):
        _age(verified_client, seen=31 * 60)
        response = verified_client.post(SESSION)
        assert response.status_code == 401
        url = response.json()["sign_in_url"]
        assert urlsplit(url).path == LOGIN
        page = verified_client.get(url)
        assert "had not done anything for 30 minutes" in page.content.decode()

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_nobody_signed_in_gets_401(self, client, method):
        response = getattr(client, method)(SESSION)
        assert response.status_code == 401
        assert response.json() == {"signed_in": False, "sign_in_url": LOGIN}

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_password_alone_gets_403(self, password_client, method):
        response = getattr(password_client, method)(SESSION)
        assert response.status_code == 403
        assert response.json() == {"signed_in": True, "verified": False}

    def test_other_methods_are_refused(self, verified_client):
        assert verified_client.put(SESSION).status_code == 405


class TestEveryPageKnowsTheTimeout:
    @override_settings(
        SESSION_IDLE_TIMEOUT=timedelta(minutes=20),
        SESSION_IDLE_WARNING=timedelta(seconds=90),
    )
    def test_signed_in_pages_carry_the_timings_and_the_dialog(self, verified_client):
        html = verified_client.get(reverse("accounts:account")).content.decode()
        assert f'data-session-url="{SESSION}"' in html
        assert 'data-session-timeout="1200"' in html
        assert 'data-session-warning="90"' in html
        assert '<dialog class="portal-timeout" id="session-timeout"' in html
        assert "You’ll be signed out soon" in html
        assert "not done anything for 20 minutes" in html
        assert "Stay signed in" in html

    def test_the_sign_in_page_has_no_warning(self, client):
        html = client.get(LOGIN).content.decode()
        assert "data-session-url" not in html
        assert "session-timeout" not in html


class TestSignInPageSaysWhy:
    def test_after_the_idle_timeout(self, verified_client):
        _age(verified_client, seen=31 * 60)
        response = verified_client.get(reverse("accounts:account"))
        location = response["Location"]
        query = parse_qs(urlsplit(location).query)
        assert query["next"] == [reverse("accounts:account")]
        page = verified_client.get(location).content.decode()
        assert (
            "You were signed out because you had not done anything for 30 minutes."
            in page
        )
        assert "We saved" not in page
        event = AuditEvent.objects.get(action="auth.session_expired")
        assert event.detail == {"reason": "idle"}

    def test_after_the_absolute_lifetime(self, verified_client):
        _age(verified_client, seen=5, started=12 * 3600 + 60)
        location = verified_client.get(reverse("accounts:account"))["Location"]
        page = verified_client.get(location).content.decode()
        assert "because you had been signed in for 12 hours" in page

    def test_with_what_was_kept(self, client):
        url = session_time.sign_in_url(
            session_time.SessionEnded(session_time.IDLE, "Eligibility")
        )
        page = client.get(url).content.decode()
        assert "We saved what you were typing in ‘Eligibility’." in page

    def test_a_plain_sign_in_says_nothing_about_it(self, client):
        assert "You were signed out" not in client.get(LOGIN).content.decode()

    @pytest.mark.parametrize(
        "value",
        ["idle", "eyJyZWFzb24iOiJpZGxlIn0", "<script>alert(1)</script>", "\x7f"],
    )
    def test_text_made_up_in_the_address_is_never_shown(self, client, value):
        response = client.get(LOGIN, {session_time.NOTICE_PARAMETER: value})
        assert response.status_code == 200
        assert "You were signed out" not in response.content.decode()

    def test_an_old_notice_is_not_shown(self, client, monkeypatch):
        url = session_time.sign_in_url(session_time.SessionEnded(session_time.IDLE))
        later = time.time() + 2 * 3600
        monkeypatch.setattr("django.core.signing.time.time", lambda: later)
        assert "You were signed out" not in client.get(url).content.decode()


class TestInWords:
    @pytest.mark.parametrize(
        ("duration", "words"),
        [
            (timedelta(minutes=30), "30 minutes"),
            (timedelta(minutes=1), "1 minute"),
            (timedelta(hours=12), "12 hours"),
            (timedelta(seconds=8), "8 seconds"),
            (timedelta(seconds=90), "90 seconds"),
        ],
    )
    def test_durations(self, duration, words):
        assert session_time.in_words(duration) == words


def test_json_answers_are_small(verified_client):
    body = json.loads(verified_client.get(SESSION).content)
    assert set(body) == {"signed_in", "seconds_left"}
