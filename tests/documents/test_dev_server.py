"""``make run`` (manage.py dev_server): the development server scans uploads.

The server itself is replaced by a stand-in that records how it would be
started; everything up to that (finding ClamAV, starting clamd, passing its
address on, stopping it afterwards) is real.
"""

import socket
import subprocess
import sys
from io import StringIO
from unittest import mock

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.test import override_settings

from files import scanning
from tests.documents.clamd import eicar_bytes, require_clamav

COMMAND = "files.management.commands.dev_server"


class FakeServer:
    """Stands in for ``runserver``; scans EICAR with the address it was given."""

    def __init__(self, *, scan: bool = True):
        self.scan = scan
        self.args = None
        self.env = None
        self.verdict = None

    def __call__(self, args, *, env):
        self.args, self.env = args, env
        address = env.get("DJANGO_CLAMAV_ADDRESS", "")
        if address and self.scan:
            with override_settings(CLAMAV_ADDRESS=address):
                self.verdict = scanning.scan_file(ContentFile(eicar_bytes()))


@pytest.fixture
def development(settings, tmp_path):
    settings.DEBUG = True
    settings.CLAMAV_ADDRESS = ""
    settings.CLAMAV_DISABLED = False
    settings.BASE_DIR = tmp_path


class FakeWorker:
    """Stands in for ``run_worker``: a real process that waits to be stopped,
    so the test sees whether dev_server stops it."""

    def __init__(self):
        self.args = None
        self.process = None

    def __call__(self, args, *, env):
        self.args = args
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)"]
        )
        return self.process


def serve(server: FakeServer, worker: FakeWorker | None = None) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with (
        mock.patch(f"{COMMAND}.run_server", server),
        mock.patch(f"{COMMAND}.start_worker", worker or FakeWorker()),
    ):
        call_command("dev_server", "127.0.0.1:8123", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def test_with_clamav_installed_a_local_clamd_refuses_eicar(development):
    require_clamav()
    server = FakeServer()
    out, _ = serve(server)
    address = server.env["DJANGO_CLAMAV_ADDRESS"]
    assert server.args[-2:] == ["runserver", "127.0.0.1:8123"]
    assert server.verdict == scanning.ScanResult(
        clean=False, signature="Local.Test.EICAR.UNOFFICIAL"
    )
    assert f"Uploads are scanned by a local clamd at {address}" in out
    # Stopped with the server, not left running.
    assert not answers(address)


def test_a_configured_scanner_is_used_as_it_is(development, settings):
    settings.CLAMAV_ADDRESS = "127.0.0.1:3310"
    server = FakeServer(scan=False)  # nothing listens at that address
    with mock.patch(f"{COMMAND}.local_clamd.start_clamd") as start:
        out, _ = serve(server)
    start.assert_not_called()
    assert "Uploads are scanned by clamd at 127.0.0.1:3310" in out


def test_without_clamav_the_console_says_uploads_are_not_scanned(development):
    server = FakeServer()
    with mock.patch(f"{COMMAND}.local_clamd.clamav_missing", return_value=["clamd"]):
        _, err = serve(server)
    assert "Uploads are stored without a virus scan: ClamAV is not installed" in err
    assert "apt-get install -y clamav-daemon clamav" in err
    assert not server.env.get("DJANGO_CLAMAV_ADDRESS")


def test_it_is_for_development_only(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="for development"):
        call_command("dev_server")


def test_the_background_worker_runs_beside_the_server_and_stops_with_it(
    development,
):
    worker = FakeWorker()
    with mock.patch(f"{COMMAND}.local_clamd.clamav_missing", return_value=["clamd"]):
        out, _ = serve(FakeServer(), worker)
    assert worker.args[-1] == "run_worker"
    assert "Background tasks and scheduled jobs run in a worker" in out
    # Asked to stop (SIGTERM), not left running after the server.
    assert worker.process.returncode == -15
