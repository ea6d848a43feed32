"""The second factor stands only while the session's device does: it still
exists, is the person's own and is confirmed. Checked on every request, in
the query that reads the person (accounts.middleware.SecondFactorDeviceMiddleware)."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.middleware import SecondFactorDeviceMiddleware
from tests.conftest import verified_client_for
from tests.factories import TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/notices/"


def _sent_to_the_second_factor(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        (reverse("accounts:verify"), reverse("accounts:enrol"))
    )


@pytest.fixture
def person():
    return UserFactory(roles=["Referrers"])


def test_a_verified_session_reads_no_device_row(person):
    client = verified_client_for(person)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    device_reads = [
        q["sql"] for q in queries if q["sql"].startswith('SELECT "otp_totp_totpdevice"')
    ]
    assert device_reads == []


def test_a_deleted_device_ends_the_second_factor_at_once(person):
    client = verified_client_for(person)
    assert client.get(PAGE).status_code == 200
    person.totpdevice_set.all().delete()
    assert _sent_to_the_second_factor(client.get(PAGE))
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_a_device_no_longer_confirmed_no_longer_counts(person):
    client = verified_client_for(person)
    person.totpdevice_set.update(confirmed=False)
    assert _sent_to_the_second_factor(client.get(PAGE))


def test_another_persons_device_does_not_count(person):
    client = verified_client_for(person)
    theirs = TOTPDeviceFactory(user=UserFactory())
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = theirs.persistent_id
    session.save()
    assert _sent_to_the_second_factor(client.get(PAGE))


@pytest.mark.parametrize(
    "named", ["accounts.user/{pk}", "otp_totp.totpdevice/x", "nothing", "a.b/1"]
)
def test_a_session_naming_no_device_is_not_verified(person, named):
    client = verified_client_for(person)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = named.format(pk=person.pk)
    session.save()
    assert _sent_to_the_second_factor(client.get(PAGE))


def test_the_device_is_there_for_code_that_asks_for_it(person, rf):
    """django-otp and Wagtail may read the device's fields: it is read then."""
    device = person.totpdevice_set.first() or TOTPDeviceFactory(user=person)
    request = rf.get(PAGE)
    request.session = SessionStore()
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.session[SESSION_KEY] = str(person.pk)
    request.session[BACKEND_SESSION_KEY] = "accounts.backends.PartnerBackend"
    request.session[HASH_SESSION_KEY] = person.get_session_auth_hash()
    AuthenticationMiddleware(lambda r: None).process_request(request)
    SecondFactorDeviceMiddleware(lambda r: None)(request)
    assert request.user.is_verified()
    assert request.user.otp_device.pk == device.pk
    assert request.user.otp_device.name == device.name
