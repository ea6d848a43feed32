"""The private download response as a WSGI server meets it: a file in local
storage goes to the server's file wrapper (``wsgi.file_wrapper``), which
gunicorn sends with sendfile(2), after the download is checked and audited."""

import os
from contextlib import contextmanager
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from audit.models import AuditEvent
from documents.models import FileDownload
from tests.conftest import verified_client_for
from tests.factories import three_agencies
from tests.factories.documents import PDF, shared, upload

pytestmark = pytest.mark.django_db


class FileWrapper:
    """What a WSGI server offers as ``wsgi.file_wrapper`` (PEP 3333)."""

    def __init__(self, filelike, block_size):
        self.filelike = filelike
        self.block_size = block_size
        self.closed = False

    def close(self):
        self.closed = True
        self.filelike.close()


@contextmanager
def _test_database_kept():
    """As Django's test client does: the handler's signals would otherwise
    close the test's database connection, and its transaction with it."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _serve(path: str, client) -> tuple[str, dict, object]:
    """Send one GET through Django's own WSGI handler, as gunicorn does."""
    cookies = "; ".join(
        f"{key}={morsel.value}" for key, morsel in client.cookies.items()
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": cookies,
        "wsgi.file_wrapper": FileWrapper,
    }
    setup_testing_defaults(environ)
    started = {}

    def start_response(status, headers):
        started["status"], started["headers"] = status, dict(headers)

    with _test_database_kept():
        body = WSGIHandler()(environ, start_response)
    return started["status"], started["headers"], body


@pytest.fixture
def world():
    people = three_agencies()
    share = shared(
        people[("A", "Referrer")],
        [people[("B", "Referrer")].organisation],
        files=[upload("Risk assessment.pdf")],
    )
    return people, share.files.get()


def test_a_local_file_is_handed_to_the_servers_file_wrapper(world):
    people, item = world
    reader = people[("B", "Referrer")]

    status, headers, body = _serve(item.get_download_url(), verified_client_for(reader))

    assert status.startswith("200")
    # A real file with a descriptor: what gunicorn's sendfile needs.
    assert isinstance(body, FileWrapper)
    assert os.fstat(body.filelike.fileno()).st_size == len(PDF)
    assert body.filelike.read() == PDF
    assert headers["Content-Length"] == str(len(PDF))
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"] == (
        'attachment; filename="Risk assessment.pdf"'
    )
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "private, no-store"
    # Recorded before a byte was sent, and the file is closed at the end.
    assert FileDownload.objects.filter(file=item, user=reader).count() == 1
    assert AuditEvent.objects.filter(action="document.downloaded").count() == 1
    with _test_database_kept():
        body.close()  # as the server does when it has sent the file
    assert body.filelike.closed


def test_someone_not_entitled_gets_no_file_and_no_download(world):
    people, item = world
    stranger = people[("C", "Referrer")]

    status, _, body = _serve(item.get_download_url(), verified_client_for(stranger))

    assert status.startswith("404")
    assert not isinstance(body, FileWrapper)
    assert not FileDownload.objects.filter(file=item).exists()
