"""Application logs never carry passwords, codes, tokens or personal details."""

import logging

import pytest
from django.test import override_settings
from django.urls import reverse

from tests.conftest import current_code
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
def test_sign_in_journey_logs_nothing_sensitive(client, user, device, caplog):
    caplog.set_level(logging.DEBUG)
    wrong_password = "Wrong-Password-123"
    client.post(
        reverse("accounts:login"),
        {"username": user.username, "password": wrong_password},
    )
    for _ in range(5):
        client.post(
            reverse("accounts:login"),
            {"username": user.username, "password": wrong_password},
        )
    client.post(reverse("accounts:password_reset"), {"email": user.email})
    code = current_code(device)
    client.post(reverse("accounts:verify"), {"code": code})

    logged = "\n".join(record.getMessage() for record in caplog.records)
    # The lockout is logged (so this test sees real log lines), without names.
    assert "Too Many Requests" in logged
    for secret in (
        TEST_PASSWORD,
        wrong_password,
        code,
        user.email,
        user.username,
        user.last_name,
    ):
        assert secret not in logged
