"""Fixtures shared by the whole suite: people, devices and signed-in clients."""

import time

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from tests.factories import TEST_PASSWORD, TOTPDeviceFactory, UserFactory


def current_code(device, offset: int = 0) -> str:
    """The device's code now (or ``offset`` steps away), zero-padded as typed."""
    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = time.time() + offset * device.step
    return f"{generator.token():0{device.digits}d}"


@pytest.fixture
def password():
    return TEST_PASSWORD


@pytest.fixture
def user(db):
    """A referrer at a partner agency, with a confirmed authenticator."""
    person = UserFactory(roles=["Referrers"])
    TOTPDeviceFactory(user=person)
    return person


@pytest.fixture
def device(user):
    return user.totpdevice_set.get()


def sign_in_with_password(client: Client, user) -> None:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")


def verify_session(client: Client, user) -> None:
    """Mark the client's session as having passed the second factor."""
    device = user.totpdevice_set.filter(confirmed=True).first()
    if device is None:
        device = TOTPDeviceFactory(user=user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


@pytest.fixture
def password_client(user):
    """Signed in with a password only: the second factor is still to come."""
    client = Client()
    sign_in_with_password(client, user)
    return client


@pytest.fixture
def verified_client(user):
    """Signed in with password and second factor."""
    client = Client()
    sign_in_with_password(client, user)
    verify_session(client, user)
    return client


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
