"""Repeated wrong passwords or codes lock sign-in for a while."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import current_code
from tests.factories import TEST_PASSWORD, UserFactory

LOGIN = reverse("accounts:login")
VERIFY = reverse("accounts:verify")

pytestmark = pytest.mark.django_db


def _attempt(client, username, password="wrong-password", ip="10.1.1.1"):  # noqa: S107
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip
    )


class TestPasswordLockout:
    def test_five_wrong_passwords_lock_the_account(self, client, user):
        for _ in range(4):
            assert _attempt(client, user.username).status_code == 200
        locked = _attempt(client, user.username)
        assert locked.status_code == 429
        page = locked.content.decode()
        assert "Sign-in is locked for now" in page
        assert "Try again in 15 minutes" in page
        # Even the right password is refused while locked.
        response = _attempt(client, user.username, TEST_PASSWORD)
        assert response.status_code == 429

    def test_lock_holds_from_another_address(self, user):
        for n in range(5):
            _attempt(Client(), user.username, ip=f"10.2.0.{n}")
        response = _attempt(Client(), user.username, TEST_PASSWORD, ip="10.9.9.9")
        assert response.status_code == 429

    def test_many_usernames_from_one_address_lock_that_address(self):
        for n in range(5):
            _attempt(Client(), f"guess{n}", ip="10.3.3.3")
        person = UserFactory()
        response = _attempt(Client(), person.username, TEST_PASSWORD, ip="10.3.3.3")
        assert response.status_code == 429
        # Someone else, elsewhere, is unaffected.
        other = _attempt(Client(), person.username, TEST_PASSWORD, ip="10.4.4.4")
        assert other.status_code == 302

    def test_success_clears_earlier_failures(self, client, user):
        for _ in range(4):
            _attempt(client, user.username)
        assert _attempt(client, user.username, TEST_PASSWORD).status_code == 302
        for _ in range(4):
            assert _attempt(Client(), user.username).status_code == 200


class TestSecondFactorLockout:
    @override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
    def test_five_wrong_codes_lock_the_account_and_end_the_session(
        self, client, user, device
    ):
        _attempt(client, user.username, TEST_PASSWORD)
        for _ in range(4):
            response = client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR="10.1.1.1")
            assert response.status_code == 200
        response = client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR="10.1.1.1")
        assert response.status_code == 429
        assert "Sign-in is locked for now" in response.content.decode()
        # The password-only session is gone, and the right password is refused.
        assert client.get("/")["Location"].startswith(LOGIN)
        again = _attempt(Client(), user.username, TEST_PASSWORD, ip="10.5.5.5")
        assert again.status_code == 429

    @override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
    def test_locked_account_cannot_use_an_open_code_page(self, user, device):
        open_page = Client()
        _attempt(open_page, user.username, TEST_PASSWORD, ip="10.6.6.6")
        for n in range(5):
            _attempt(Client(), user.username, ip=f"10.7.0.{n}")
        response = open_page.post(
            VERIFY, {"code": current_code(device)}, REMOTE_ADDR="10.6.6.6"
        )
        assert response.status_code == 429
