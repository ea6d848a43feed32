"""The clamd client, against a real clamd and against sockets that misbehave."""

import io
import socket
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from files.scanning import (
    ScannerUnavailable,
    ScanResult,
    scan_file,
    scanner_configured,
    scanner_ping,
)
from tests.documents.clamd import (
    EICAR_REPORTED_SIGNATURE,
    eicar_bytes,
    require_clamav,
    start_clamd,
)

MB = 1024 * 1024


class GeneratedStream:
    """A file-like object that makes its bytes as they are read and records reads.

    Stands in for a large upload: nothing is ever held beyond one read.
    """

    def __init__(self, size: int):
        self.size = size
        self.position = 0
        self.largest_read = 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            raise AssertionError("the scanner asked for the whole file at once")
        self.largest_read = max(self.largest_read, size)
        size = min(size, self.size - self.position)
        self.position += size
        return b"a" * size

    def seekable(self) -> bool:
        return True

    def seek(self, position: int) -> None:
        self.position = position


class NotSeekable(io.RawIOBase):
    """A pipe-like stream: readable once, from the start, with no seek."""

    def __init__(self, data: bytes):
        self.data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self.data.read(size)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def small_limit_clamd_address(tmp_path_factory):
    """A second clamd that accepts streams of at most 1 MB."""
    require_clamav()
    host, port, stop = start_clamd(
        tmp_path_factory.mktemp("clamd-small"), stream_max_length="1M"
    )
    try:
        yield f"{host}:{port}"
    finally:
        stop()


@pytest.fixture
def silent_server(settings):
    """A port that accepts connections (the kernel does) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        settings.CLAMAV_ADDRESS = f"127.0.0.1:{listener.getsockname()[1]}"
        settings.CLAMAV_TIMEOUT = 1
        yield


@pytest.fixture
def answering_server(settings):
    """A server that reads one INSTREAM to its end and answers with given bytes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    settings.CLAMAV_ADDRESS = f"127.0.0.1:{listener.getsockname()[1]}"
    settings.CLAMAV_TIMEOUT = 5

    def answer_with(reply: bytes) -> None:
        def serve():
            connection, _ = listener.accept()
            with connection:
                received = b""
                while not received.endswith(b"\0\0\0\0"):
                    data = connection.recv(65536)
                    if not data:
                        break
                    received += data
                connection.sendall(reply)

        threading.Thread(target=serve, daemon=True).start()

    yield answer_with
    listener.close()


class TestScanning:
    def test_clean_bytes_are_clean(self, clamav):
        result = scan_file(io.BytesIO(b"Minutes of the meeting, nothing else."))

        assert result == ScanResult(clean=True)
        assert result.signature == ""

    def test_eicar_is_found_with_its_signature(self, clamav):
        result = scan_file(io.BytesIO(eicar_bytes()))

        assert result == ScanResult(clean=False, signature=EICAR_REPORTED_SIGNATURE)
        assert result.signature == "Local.Test.EICAR.UNOFFICIAL"

    def test_scans_from_the_start_and_rewinds(self, clamav):
        upload = io.BytesIO(eicar_bytes())
        upload.seek(0, io.SEEK_END)

        result = scan_file(upload)

        assert not result.clean
        assert upload.tell() == 0

    def test_scans_djangos_uploaded_files(self, clamav):
        in_memory = SimpleUploadedFile("note.txt", eicar_bytes())
        on_disk = TemporaryUploadedFile("note.txt", "text/plain", 68, None)
        on_disk.write(eicar_bytes())

        with on_disk:
            for upload in (in_memory, on_disk):
                assert scan_file(upload).signature == EICAR_REPORTED_SIGNATURE
                assert upload.read() == eicar_bytes()

    def test_scans_a_stream_that_cannot_seek(self, clamav):
        assert scan_file(NotSeekable(eicar_bytes()), chunk_size=7) == ScanResult(
            clean=False, signature=EICAR_REPORTED_SIGNATURE
        )

    def test_large_stream_is_read_in_chunks(self, clamav):
        upload = GeneratedStream(50 * MB)

        result = scan_file(upload, chunk_size=64 * 1024)

        assert result.clean
        assert upload.largest_read <= 64 * 1024
        # Read to the end, then rewound for the caller.
        assert upload.position == 0

    def test_stream_over_clamds_limit_is_refused(
        self, settings, small_limit_clamd_address
    ):
        settings.CLAMAV_ADDRESS = small_limit_clamd_address

        with pytest.raises(ScannerUnavailable, match="size limit exceeded"):
            scan_file(GeneratedStream(2 * MB))

    def test_stream_far_over_clamds_limit_is_refused(
        self, settings, small_limit_clamd_address
    ):
        # clamd stops reading, so sending fails before the stream ends.
        settings.CLAMAV_ADDRESS = small_limit_clamd_address

        with pytest.raises(ScannerUnavailable):
            scan_file(GeneratedStream(50 * MB))

    def test_closed_port_is_unavailable_at_once(self, settings):
        settings.CLAMAV_ADDRESS = f"127.0.0.1:{closed_port()}"
        started = time.monotonic()

        with pytest.raises(ScannerUnavailable, match="Cannot reach clamd"):
            scan_file(io.BytesIO(b"hello"))

        assert time.monotonic() - started < 2

    def test_silent_scanner_times_out(self, silent_server):
        started = time.monotonic()

        with pytest.raises(ScannerUnavailable):
            scan_file(io.BytesIO(b"hello"))

        assert time.monotonic() - started < 5

    @pytest.mark.parametrize(
        "reply",
        [
            b"",
            # Cut short before its NUL: it could have gone on "OK.Name FOUND".
            b"stream: OK",
            b"nonsense\0",
            b"stream: FOUND\0",
            b"stream: OK but more\0",
            b"Some clamd trouble. ERROR\0",
            b"x" * 10_000,
        ],
    )
    def test_unexpected_reply_is_unavailable_never_clean(self, answering_server, reply):
        answering_server(reply)

        with pytest.raises(ScannerUnavailable):
            scan_file(io.BytesIO(b"hello"))

    def test_ping_answers_when_clamd_is_up(self, clamav):
        assert scanner_ping() is True

    def test_ping_is_false_when_port_is_closed(self, settings):
        settings.CLAMAV_ADDRESS = f"127.0.0.1:{closed_port()}"

        assert scanner_ping() is False

    def test_ping_is_false_when_scanner_is_silent(self, silent_server):
        assert scanner_ping() is False

    @pytest.mark.parametrize(
        ("address", "configured"),
        [("", False), ("   ", False), ("127.0.0.1:3310", True), ("clamav", True)],
    )
    def test_scanner_configured_reflects_the_setting(
        self, settings, address, configured
    ):
        settings.CLAMAV_ADDRESS = address

        assert scanner_configured() is configured

    def test_scanning_without_a_scanner_is_a_programming_error(self, settings):
        settings.CLAMAV_ADDRESS = ""

        with pytest.raises(RuntimeError, match="scanner_configured"):
            scan_file(io.BytesIO(b"hello"))
        with pytest.raises(RuntimeError):
            scanner_ping()

    @pytest.mark.parametrize("address", ["clamav", ":3310", "host:0", "host:99999"])
    def test_malformed_address_is_improperly_configured(self, settings, address):
        settings.CLAMAV_ADDRESS = address

        with pytest.raises(ImproperlyConfigured, match="host:port"):
            scan_file(io.BytesIO(b"hello"))
