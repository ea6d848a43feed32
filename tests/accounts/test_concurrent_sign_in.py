"""The same security code sent from several sign-ins at the same moment.

Exactly one sign-in gets in. The others are told the code has been used, are
not counted as failures (so nobody is locked out), and the sign-in that won
keeps its session (docs/security.md, "A code used twice").

These run real requests on separate threads and database connections. On
PostgreSQL concurrent UPDATEs of the device row queue on its row lock; on SQLite
writes queue on the database lock.
"""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from accounts.services import backup_codes_generate
from audit.models import AuditEvent
from tests.concurrency import at_once
from tests.conftest import current_code
from tests.factories import TEST_PASSWORD, TOTPDeviceFactory, UserFactory

LOGIN = "/sign-in/"
VERIFY = "/sign-in/security-code/"
ALREADY_USED = "That code has already been used"
SIGN_INS = 6

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def person():
    person = UserFactory()
    TOTPDeviceFactory(user=person)
    return person


def _password_step(person, count):
    clients = []
    for n in range(count):
        client = Client()
        response = client.post(
            LOGIN,
            {"username": person.username, "password": TEST_PASSWORD},
            REMOTE_ADDR=f"10.20.0.{n}",
        )
        assert response["Location"] == VERIFY
        clients.append((client, f"10.20.0.{n}"))
    return clients


def _send_code_at_once(clients, code):
    def send(client, ip):
        return client, client.post(VERIFY, {"code": code}, REMOTE_ADDR=ip)

    results, errors = at_once(
        [(send, {"client": client, "ip": ip}) for client, ip in clients]
    )
    assert errors == []
    winners = [c for c, r in results if r.status_code == 302]
    refused = [r for _, r in results if r.status_code != 302]
    return winners, refused


def _assert_one_in_and_nobody_locked_out(person, winners, refused):
    assert len(winners) == 1
    assert winners[0].get("/account/").status_code == 200
    assert len(refused) == SIGN_INS - 1
    for response in refused:
        assert response.status_code == 400
        assert ALREADY_USED in response.content.decode()
    # Not counted against the person: no failures, no lockout.
    assert not AccessAttempt.objects.filter(username=person.username).exists()
    assert not AuditEvent.objects.filter(action="auth.lockout").exists()
    # The winner's session survived all of it.
    assert winners[0].get("/account/").status_code == 200
    # And the person can still sign in elsewhere with their password.
    again = Client().post(
        LOGIN, {"username": person.username, "password": TEST_PASSWORD}
    )
    assert again["Location"] == VERIFY


def test_same_app_code_at_once_lets_exactly_one_in(person):
    clients = _password_step(person, SIGN_INS)
    code = current_code(person.totpdevice_set.get())
    winners, refused = _send_code_at_once(clients, code)
    _assert_one_in_and_nobody_locked_out(person, winners, refused)


def test_same_backup_code_at_once_lets_exactly_one_in(person):
    code = backup_codes_generate(user=person)[0]
    clients = _password_step(person, SIGN_INS)
    winners, refused = _send_code_at_once(clients, code)
    _assert_one_in_and_nobody_locked_out(person, winners, refused)
