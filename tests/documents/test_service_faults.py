"""Sharing a file while the scanner or the S3 store is stopped or hung.

What the person sees (an error next to the file field for the scanner, the
plain 503 page for storage), that it comes within the timeouts rather than
when gunicorn gives up, and that nothing is kept: no share row, no stored
object, no file on disk.
"""

import time
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from documents.models import Share, SharedFile
from portal.s3 import s3_options
from tests.conftest import verified_client_for
from tests.documents import s3
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import PDF, upload
from tests.faults import closed_port, silent_server

pytestmark = pytest.mark.django_db
s3_server = s3.s3_server

PROBLEM = "Sorry, there is a problem with the service"
NOT_CHECKED = "could not be checked for viruses just now"


@pytest.fixture
def people():
    sender = UserFactory(organisation=OrganisationFactory(), roles=[Role.REFERRER])
    return sender, OrganisationFactory()


def share_through_the_form(sender, recipient):
    client = verified_client_for(sender)
    page = client.get(reverse("documents:new")).content.decode()
    key = page.split('name="submission_key" value="', 1)[1].split('"', 1)[0]
    day = timezone.localdate() + timedelta(days=10)
    return client.post(
        reverse("documents:new"),
        {
            "submission_key": key,
            "target": "organisations",
            "organisations": [recipient.pk],
            "note": "For the panel.",
            "expires_0": str(day.day),
            "expires_1": str(day.month),
            "expires_2": str(day.year),
            "files": [upload("Risk assessment.pdf", PDF)],
        },
    )


def files_on_disk(settings) -> list:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def nothing_kept():
    return not Share.objects.exists() and not SharedFile.objects.exists()


class TestScannerFaults:
    def test_stopped_scanner_keeps_the_form_with_an_error(self, people, settings):
        settings.CLAMAV_ADDRESS = f"127.0.0.1:{closed_port()}"
        before = files_on_disk(settings)
        response = share_through_the_form(*people)
        # The form again, with the error: 400, as for any refused upload.
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert NOT_CHECKED in page
        assert "For the panel." in page  # what was typed is kept
        assert nothing_kept()
        assert files_on_disk(settings) == before

    def test_hung_scanner_answers_within_its_timeout(self, people, settings):
        settings.CLAMAV_TIMEOUT = 1
        with silent_server() as port:
            settings.CLAMAV_ADDRESS = f"127.0.0.1:{port}"
            started = time.monotonic()
            response = share_through_the_form(*people)
            elapsed = time.monotonic() - started
        assert elapsed < 4
        assert response.status_code == 400
        assert NOT_CHECKED in response.content.decode()
        assert nothing_kept()


@contextmanager
def s3_store(endpoint_url: str, bucket: str, **timeouts):
    """Shared files go to S3 at ``endpoint_url``, with the production options.

    Put on the model field too, which holds the storage it was built with
    (tests.factories.documents.files_storage)."""
    from storages.backends.s3 import S3Storage

    storage = S3Storage(
        **s3_options(
            bucket=bucket,
            region=s3.REGION,
            endpoint_url=endpoint_url,
            access_key=s3.ACCESS_KEY,
            secret_key=s3.SECRET_KEY,
            **timeouts,
        )
    )
    field_storage = mock.patch.object(
        SharedFile._meta.get_field("file"), "storage", storage
    )
    with field_storage, mock.patch("files.storage.storages", {"default": storage}):
        yield


def storage_problem_page(response) -> None:
    """The share form again, as filled in, saying by the file field that
    nothing was kept and to try again later."""
    assert response.status_code == 503
    assert response["Retry-After"]
    page = response.content.decode()
    assert "There is a problem" in page  # the error summary
    assert "nothing was saved" in page and "Try again" in page
    assert "For the panel." in page  # what was typed is kept


class TestS3Faults:
    def test_stopped_s3_gets_the_storage_page(self, people):
        with s3_store(f"http://127.0.0.1:{closed_port()}", "portal-files"):
            response = share_through_the_form(*people)
        storage_problem_page(response)
        assert nothing_kept()

    def test_hung_s3_gets_the_storage_page_within_the_timeouts(self, people):
        with (
            silent_server() as port,
            s3_store(
                f"http://127.0.0.1:{port}",
                "portal-files",
                connect_timeout=0.5,
                read_timeout=0.5,
                max_attempts=2,
            ),
        ):
            started = time.monotonic()
            response = share_through_the_form(*people)
            elapsed = time.monotonic() - started
        # Two attempts of half a second each, plus backoff: not gunicorn's 30 s.
        assert elapsed < 5
        storage_problem_page(response)
        assert nothing_kept()

    def test_s3_refusing_leaves_no_object_and_no_row(self, people, s3_server):
        # The bucket is missing: S3 answers each write with an error.
        with s3_store(s3_server, "no-such-bucket"):
            response = share_through_the_form(*people)
        storage_problem_page(response)
        assert nothing_kept()
        names = [b["Name"] for b in s3.s3_client(s3_server).list_buckets()["Buckets"]]
        assert "no-such-bucket" not in names
