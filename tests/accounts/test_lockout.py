"""Repeated wrong passwords or codes lock sign-in for a while."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from tests.conftest import current_code
from tests.factories import TEST_PASSWORD, TOTPDeviceFactory, UserFactory

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
            assert _attempt(client, user.username).status_code == 400
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


class TestWhoseSignInClearsFailures:
    """Only a person's own full sign-in (password and code) clears their failures.

    Anything less let someone with one working login guess other people's
    passwords without limit: 4 wrong for one, 1 right for another, repeat.
    """

    IP = "10.8.8.8"

    def _full_sign_in(self, client, person, device):
        assert (
            _attempt(client, person.username, TEST_PASSWORD, self.IP).status_code == 302
        )
        response = client.post(
            VERIFY, {"code": current_code(device)}, REMOTE_ADDR=self.IP
        )
        assert response["Location"] == "/"

    def test_another_accounts_password_does_not_reset_the_count(self, user):
        other = UserFactory()
        TOTPDeviceFactory(user=other)
        statuses = []
        for _ in range(3):
            for _ in range(4):
                statuses.append(
                    _attempt(Client(), user.username, ip=self.IP).status_code
                )
            _attempt(Client(), other.username, TEST_PASSWORD, ip=self.IP)
        # The fifth wrong password locked the account, and every guess after it
        # was refused without being checked.
        assert statuses[:4] == [400] * 4
        assert statuses[4:] == [429] * 8
        # Locked for its own sake, wherever the right password comes from...
        elsewhere = _attempt(Client(), user.username, TEST_PASSWORD, ip="10.9.9.9")
        assert elsewhere.status_code == 429
        # ...and the address is still counted, for the other account too.
        again = _attempt(Client(), other.username, TEST_PASSWORD, ip=self.IP)
        assert again.status_code == 429

    def test_another_accounts_full_sign_in_does_not_reset_the_count(self, user):
        other = UserFactory()
        other_device = TOTPDeviceFactory(user=other)
        for _ in range(4):
            _attempt(Client(), user.username, ip=self.IP)
        self._full_sign_in(Client(), other, other_device)
        assert _attempt(Client(), user.username, ip=self.IP).status_code == 429

    def test_a_right_password_alone_does_not_reset_the_count(self, user):
        for _ in range(4):
            _attempt(Client(), user.username, ip=self.IP)
        assert (
            _attempt(Client(), user.username, TEST_PASSWORD, self.IP).status_code == 302
        )
        assert _attempt(Client(), user.username, ip="10.9.9.9").status_code == 429

    def test_own_full_sign_in_clears_the_accounts_failures(self, user, device):
        for _ in range(4):
            _attempt(Client(), user.username, ip=self.IP)
        self._full_sign_in(Client(), user, device)
        for _ in range(4):
            assert _attempt(Client(), user.username, ip=self.IP).status_code == 400


class TestSecondFactorLockout:
    @override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
    def test_five_wrong_codes_lock_the_account_and_end_the_session(
        self, client, user, device
    ):
        _attempt(client, user.username, TEST_PASSWORD)
        for _ in range(4):
            response = client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR="10.1.1.1")
            assert response.status_code == 400
        response = client.post(VERIFY, {"code": "000000"}, REMOTE_ADDR="10.1.1.1")
        assert response.status_code == 429
        assert "Sign-in is locked for now" in response.content.decode()
        # The password-only session is gone, and the right password is refused.
        assert client.get("/")["Location"].startswith(LOGIN)
        again = _attempt(Client(), user.username, TEST_PASSWORD, ip="10.5.5.5")
        assert again.status_code == 429

    @override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
    def test_wrong_passwords_and_wrong_codes_add_up(self, client, user, device):
        for _ in range(3):
            _attempt(Client(), user.username)
        _attempt(client, user.username, TEST_PASSWORD)
        assert client.post(VERIFY, {"code": "000000"}).status_code == 400
        assert client.post(VERIFY, {"code": "000000"}).status_code == 429
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
