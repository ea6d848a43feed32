"""A failing service gets a plain 503 page saying what to do; bugs stay 500s."""

import errno
from unittest import mock

import pytest
import redis
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from django.db import IntegrityError, InterfaceError, OperationalError, ProgrammingError
from django.test import Client
from django.urls import reverse

from files.scanning import ScannerUnavailable
from portal.errors import RETRY_AFTER_SECONDS, failing_service
from tests.conftest import verified_client_for
from tests.factories import UserFactory

PROBLEM = "Sorry, there is a problem with the service"
TRY_AGAIN = "Try again in a few minutes."

SERVICE_ERRORS = [
    (OperationalError("canceling statement due to statement timeout"), "database"),
    (OperationalError("canceling statement due to lock timeout"), "database"),
    (OperationalError("connection refused"), "database"),
    (InterfaceError("connection already closed"), "database"),
    (redis.exceptions.ConnectionError("refused"), "cache"),
    (redis.exceptions.TimeoutError("timed out"), "cache"),
    (OSError(errno.ENOSPC, "No space left on device"), "storage"),
    (OSError(errno.EROFS, "Read-only file system"), "storage"),
    (PermissionError(errno.EACCES, "Permission denied"), "storage"),
    (EndpointConnectionError(endpoint_url="http://s3"), "storage"),
    (ConnectTimeoutError(endpoint_url="http://s3"), "storage"),
    (ReadTimeoutError(endpoint_url="http://s3"), "storage"),
    (ClientError({"Error": {"Code": "AccessDenied"}}, "PutObject"), "storage"),
    (ScannerUnavailable("clamd timed out"), "scanner"),
]
PROGRAMMING_ERRORS = [
    ValueError("bad value"),
    KeyError("missing"),
    IntegrityError("duplicate key"),
    ProgrammingError("no such column"),
    FileNotFoundError(errno.ENOENT, "No such file"),
    TypeError("wrong type"),
]


@pytest.mark.parametrize(("error", "service"), SERVICE_ERRORS)
def test_each_dependency_failure_names_its_service(error, service):
    assert failing_service(error) == service


@pytest.mark.parametrize("error", PROGRAMMING_ERRORS)
def test_programming_errors_are_not_outages(error):
    assert failing_service(error) is None


@pytest.fixture
def person(db):
    return UserFactory()


def account_page_failing_with(person, error):
    client = verified_client_for(person)
    with mock.patch(
        "accounts.views.BackupCodeDevice.objects.filter", side_effect=error
    ):
        return client.get(reverse("accounts:account"))


@pytest.mark.django_db
class TestTheProblemPage:
    def test_a_database_timeout_in_a_view_gets_503_with_what_to_do(self, person):
        error = OperationalError("canceling statement due to statement timeout")
        response = account_page_failing_with(person, error)
        assert response.status_code == 503
        assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
        page = response.content.decode()
        assert f'<h1 class="govuk-heading-l">{PROBLEM}</h1>' in page
        assert "cannot reach the database" in page
        assert "check whether it is there before you do it again" in page
        assert TRY_AGAIN in page
        assert "contact the CMARAC coordinator" in page
        # Nothing of the failure is shown.
        assert "statement timeout" not in page
        assert "OperationalError" not in page

    def test_a_storage_failure_says_the_file_was_not_kept(self, person):
        error = OSError(errno.ENOSPC, "No space left on device")
        page = account_page_failing_with(person, error).content.decode()
        assert "it has not been kept and nobody else can see it" in page
        assert "No space left" not in page

    def test_a_hung_s3_endpoint_gets_the_storage_page(self, person):
        response = account_page_failing_with(
            person, ReadTimeoutError(endpoint_url="http://s3")
        )
        assert response.status_code == 503
        assert "store where it keeps files" in response.content.decode()

    def test_scanner_down_outside_an_upload_form_gets_the_scanner_page(self, person):
        response = account_page_failing_with(person, ScannerUnavailable("down"))
        assert response.status_code == 503
        assert "virus scanner" in response.content.decode()

    def test_a_programming_error_is_still_a_500(self, person):
        response = account_page_failing_with(person, ValueError("bug"))
        assert response.status_code == 500
        assert "Retry-After" not in response
        assert "cannot reach" not in response.content.decode()

    def test_the_page_is_never_cached(self, person):
        response = account_page_failing_with(person, OperationalError("gone"))
        assert "no-store" in response["Cache-Control"]

    def test_a_database_failure_in_a_middleware_gets_503_too(self, person):
        # The session is read by a middleware, before any view runs.
        client = verified_client_for(person)
        with mock.patch(
            "django.contrib.sessions.backends.db.SessionStore._get_session_from_db",
            side_effect=OperationalError("connection refused"),
        ):
            response = client.get(reverse("accounts:account"))
        assert response.status_code == 503
        assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert "cannot reach the database" in response.content.decode()

    def test_signing_in_while_the_database_times_out_gets_the_page(self, person):
        client = Client(raise_request_exception=False)
        with mock.patch(
            "accounts.backends.PartnerBackend.authenticate",
            side_effect=OperationalError("canceling statement due to lock timeout"),
        ):
            response = client.post(
                reverse("accounts:login"),
                {"username": person.username, "password": "anything-at-all"},
            )
        assert response.status_code == 503
        assert PROBLEM in response.content.decode()
