"""Signing in: password, then a second factor, with the session rules around it."""

import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client, TestCase, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import BackupCode
from accounts.receivers import SESSION_SEEN_KEY, SESSION_STARTED_KEY
from accounts.services import backup_codes_generate
from tests.conftest import current_code, sign_in_with_password, verify_session
from tests.factories import TEST_PASSWORD, UserFactory

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:verify")
ENROL = reverse("accounts:enrol")

pytestmark = pytest.mark.django_db


def sign_in(client, user, password=TEST_PASSWORD, next_url=None):
    data = {"username": user.username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data)


class TestPasswordStep:
    def test_right_password_leads_to_the_security_code_page(self, client, user):
        response = sign_in(client, user)
        assert response.status_code == 302
        assert response["Location"] == VERIFY
        # Signed in, but the home page still asks for the code.
        assert client.get("/")["Location"].startswith(VERIFY)

    def test_user_without_an_authenticator_goes_to_set_one_up(self, client):
        person = UserFactory()
        response = sign_in(client, person)
        assert response["Location"] == ENROL

    def test_wrong_password_shows_an_error_and_keeps_the_username(self, client, user):
        response = sign_in(client, user, password="not-the-password")
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert "Enter a correct username and password" in page
        assert f'value="{user.username}"' in page
        assert SESSION_KEY not in client.session

    def test_empty_form_says_what_is_missing_next_to_each_field(self, client):
        page = client.post(LOGIN, {}).content.decode()
        assert "Enter your username" in page
        assert "Enter your password" in page
        assert 'href="#id_username"' in page
        assert 'aria-describedby="id_username-error-1"' in page

    def test_next_page_is_kept_through_both_steps(self, client, user, device):
        response = sign_in(client, user, next_url="/account/")
        assert response["Location"] == f"{VERIFY}?next=%2Faccount%2F"
        response = client.post(
            f"{VERIFY}?next=/account/", {"code": current_code(device)}
        )
        assert response["Location"] == "/account/"

    def test_next_page_on_another_site_is_ignored(self, client, user, device):
        sign_in(client, user, next_url="https://evil.example/")
        response = client.post(
            VERIFY, {"code": current_code(device), "next": "https://evil.example/"}
        )
        assert response["Location"] == "/"


class TestSecurityCodeStep:
    def test_right_code_reaches_the_home_page(self, client, user, device):
        sign_in(client, user)
        response = client.post(VERIFY, {"code": current_code(device)})
        assert response["Location"] == "/"
        home = client.get("/")
        assert home.status_code == 200
        assert f"Welcome, {user.first_name}" in home.content.decode()

    def test_code_field_helps_browsers_fill_and_paste_it(self, password_client):
        page = password_client.get(VERIFY).content.decode()
        assert 'autocomplete="one-time-code"' in page
        assert "onpaste" not in page

    def test_code_pasted_with_spaces_is_accepted(self, client, user, device):
        sign_in(client, user)
        code = current_code(device)
        response = client.post(VERIFY, {"code": f" {code[:3]} {code[3:]} "})
        assert response["Location"] == "/"

    def test_session_key_changes_when_the_second_factor_is_passed(
        self, client, user, device
    ):
        sign_in(client, user)
        before = client.session.session_key
        client.post(VERIFY, {"code": current_code(device)})
        after = client.session.session_key
        assert before != after
        assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id

    def test_wrong_code_is_refused_with_a_clear_message(self, client, user, device):
        sign_in(client, user)
        wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"
        response = client.post(VERIFY, {"code": wrong})
        page = response.content.decode()
        assert response.status_code == 400
        assert "There is a problem" in page
        assert "That code did not work" in page
        assert DEVICE_ID_SESSION_KEY not in client.session

    def test_a_code_cannot_be_used_twice(self, user, device):
        code = current_code(device)
        first, second = Client(), Client()
        sign_in(first, user)
        assert first.post(VERIFY, {"code": code})["Location"] == "/"
        sign_in(second, user)
        for _ in range(6):
            response = second.post(VERIFY, {"code": code})
            assert response.status_code == 400
            assert "That code has already been used" in response.content.decode()
        # Not a guess: nothing counts towards a lockout, the session that used
        # the code keeps going and the next code works.
        assert not AccessAttempt.objects.filter(username=user.username).exists()
        assert first.get("/account/").status_code == 200
        response = second.post(VERIFY, {"code": current_code(device, offset=1)})
        assert response["Location"] == "/"

    def test_a_backup_code_cannot_be_used_twice(self, user, device):
        code = backup_codes_generate(user=user)[0]
        first, second = Client(), Client()
        sign_in(first, user)
        assert first.post(VERIFY, {"code": code})["Location"] == "/"
        sign_in(second, user)
        response = second.post(VERIFY, {"code": code})
        assert response.status_code == 400
        assert "That code has already been used" in response.content.decode()
        assert not AccessAttempt.objects.filter(username=user.username).exists()
        assert first.get("/account/").status_code == 200

    def test_a_backup_code_used_long_ago_counts_as_a_wrong_code(self, user, device):
        code = backup_codes_generate(user=user)[0]
        first = Client()
        sign_in(first, user)
        assert first.post(VERIFY, {"code": code})["Location"] == "/"
        BackupCode.objects.filter(used_at__isnull=False).update(
            used_at=timezone.now() - timedelta(minutes=2)
        )
        second = Client()
        sign_in(second, user)
        response = second.post(VERIFY, {"code": code})
        assert "That code did not work" in response.content.decode()
        assert AccessAttempt.objects.filter(username=user.username).exists()

    def test_wrong_codes_slow_down_further_attempts(self, client, user, device):
        sign_in(client, user)
        client.post(VERIFY, {"code": "000000"})
        device.refresh_from_db()
        assert device.throttling_failure_count == 1
        # While throttled even the right code is refused, and the page says why.
        response = client.post(VERIFY, {"code": current_code(device)})
        assert response.status_code == 400
        assert "Wait a few seconds before you try again" in response.content.decode()

    def test_verified_user_visiting_sign_in_goes_home(self, verified_client):
        assert verified_client.get(LOGIN)["Location"] == "/"


class TestSessionLifetime:
    def _age_session(self, client, *, started=0, seen=0):
        session = client.session
        now = int(time.time())
        session[SESSION_STARTED_KEY] = now - started
        session[SESSION_SEEN_KEY] = now - seen
        session.save()

    def test_idle_session_ends_after_thirty_minutes(self, verified_client):
        self._age_session(verified_client, seen=31 * 60, started=31 * 60)
        response = verified_client.get("/account/")
        assert response["Location"].startswith(LOGIN)

    def test_active_session_continues(self, verified_client):
        self._age_session(verified_client, seen=29 * 60, started=60 * 60)
        assert verified_client.get("/account/").status_code == 200

    def test_session_ends_after_twelve_hours_however_active(self, verified_client):
        self._age_session(verified_client, seen=10, started=12 * 3600 + 60)
        response = verified_client.get("/account/")
        assert response["Location"].startswith(LOGIN)

    @override_settings(SESSION_IDLE_TIMEOUT=timedelta(minutes=5))
    def test_idle_timeout_is_a_setting(self, verified_client):
        self._age_session(verified_client, seen=6 * 60, started=6 * 60)
        assert verified_client.get("/account/")["Location"].startswith(LOGIN)


class TestEndingSessions:
    def _two_sessions(self, user):
        phone, laptop = Client(), Client()
        for client in (phone, laptop):
            sign_in_with_password(client, user)
            verify_session(client, user)
        assert laptop.get("/account/").status_code == 200
        return phone, laptop

    def test_signing_out_ends_the_other_sessions(self, user):
        phone, laptop = self._two_sessions(user)
        response = phone.post(reverse("accounts:logout"))
        assert response["Location"] == LOGIN
        assert phone.get("/account/")["Location"].startswith(LOGIN)
        assert laptop.get("/account/")["Location"].startswith(LOGIN)

    def test_deactivating_a_user_ends_their_sessions(self, user):
        phone, laptop = self._two_sessions(user)
        user.is_active = False
        user.save()
        assert laptop.get("/account/")["Location"].startswith(LOGIN)

    def test_changing_password_keeps_this_session_and_ends_the_others(self, user):
        phone, laptop = self._two_sessions(user)
        new_password = "a-new-long-passphrase-2026"
        response = phone.post(
            reverse("accounts:password_change"),
            {
                "old_password": TEST_PASSWORD,
                "new_password1": new_password,
                "new_password2": new_password,
            },
        )
        assert response["Location"] == reverse("accounts:account")
        assert phone.get("/account/").status_code == 200
        assert laptop.get("/account/")["Location"].startswith(LOGIN)

    def test_sign_out_needs_a_post(self, verified_client):
        page = verified_client.get(reverse("accounts:logout"))
        assert page.status_code == 200
        assert verified_client.get("/account/").status_code == 200


class TestPasswordReset:
    def _reset_link(self, client, mailoutbox, user):
        # The email is queued in the outbox; the immediate task backend
        # delivers it once the request's change commits.
        with TestCase.captureOnCommitCallbacks(execute=True):
            client.post(reverse("accounts:password_reset"), {"email": user.email})
        assert len(mailoutbox) == 1
        body = mailoutbox[0].body
        return next(line for line in body.splitlines() if "/password-reset/" in line)

    def test_reset_ends_in_a_session_that_still_needs_the_second_factor(
        self, client, user, device, mailoutbox
    ):
        link = self._reset_link(client, mailoutbox, user)
        path = urlsplit(link).path
        form_url = client.get(path)["Location"]  # Django swaps the token out
        new_password = "reset-passphrase-for-2026"
        response = client.post(
            form_url, {"new_password1": new_password, "new_password2": new_password}
        )
        assert response["Location"] == VERIFY
        assert client.get("/")["Location"].startswith(VERIFY)
        response = client.post(VERIFY, {"code": current_code(device)})
        assert response["Location"] == "/"

    def test_unknown_address_gets_the_same_answer_and_no_email(
        self, client, mailoutbox
    ):
        response = client.post(
            reverse("accounts:password_reset"), {"email": "nobody@example.org"}
        )
        assert response["Location"] == reverse("accounts:password_reset_done")
        assert mailoutbox == []

    def test_email_holds_no_personal_details_beyond_the_link(
        self, client, user, mailoutbox
    ):
        self._reset_link(client, mailoutbox, user)
        body = mailoutbox[0].body
        assert user.last_name not in body
        assert str(user.organisation) not in body


def test_second_device_enrolment_is_refused_on_a_password_alone(client, user):
    sign_in(client, user)
    response = client.get(ENROL)
    assert response["Location"].startswith(VERIFY)
    response = client.post(ENROL, {"code": "123456"})
    assert response["Location"].startswith(VERIFY)


def test_verified_user_may_move_their_authenticator(verified_client):
    page = verified_client.get(ENROL)
    assert page.status_code == 200
    assert "Set up your authenticator app" in page.content.decode()


class TestInactiveOrganisation:
    def test_people_at_an_inactive_organisation_cannot_sign_in(self, client, user):
        user.organisation.active = False
        user.organisation.save()
        response = sign_in(client, user)
        assert response.status_code == 400
        assert SESSION_KEY not in client.session

    def test_marking_an_organisation_inactive_ends_open_sessions(
        self, verified_client, user
    ):
        assert verified_client.get("/account/").status_code == 200
        user.organisation.active = False
        user.organisation.save()
        assert verified_client.get("/account/")["Location"].startswith(LOGIN)
