"""Virus scanning of uploaded files through ClamAV's clamd, over TCP.

A small client of our own rather than a clamd library: the protocol is a
handful of bytes, not worth a dependency on the upload path. Commands and
replies are described in clamd(8), https://linux.die.net/man/8/clamd, and
https://docs.clamav.net/manual/Usage/Scanning.html#clamd.

Callers check ``scanner_configured()`` first; where it is true every shared
file goes through ``scan_file()`` and an upload is refused when it raises
``ScannerUnavailable``, so an unreachable scanner never lets a file through.
Production settings refuse to start without a scanner unless an operator sets
``DJANGO_CLAMAV_DISABLED=true``, which ``check --deploy`` then reports.
"""

import logging
import re
import socket
import struct
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from audit.models import Outcome
from audit.services import audit_record
from portal.errors import SCANNER, ServiceUnavailable

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 64 * 1024
# clamd's replies are one short line; anything longer is not clamd talking.
MAX_REPLY_BYTES = 4096
# The "z" prefix makes clamd read the command up to, and answer with, a NUL byte
# rather than a newline, so file names and signatures cannot break the framing.
INSTREAM_COMMAND = b"zINSTREAM\0"
PING_COMMAND = b"zPING\0"
# INSTREAM frames each chunk with its length as a 4-byte unsigned big-endian
# integer; a zero length ends the stream.
CHUNK_LENGTH = struct.Struct(">I")
END_OF_STREAM = CHUNK_LENGTH.pack(0)
FOUND_REPLY = re.compile(r"stream: (?P<signature>.+) FOUND")
DISABLED_MESSAGE = (
    "Virus scanning is switched off (DJANGO_CLAMAV_DISABLED=true): uploaded "
    "files are stored without a virus scan."
)


class ScanVerdict(StrEnum):
    """What ``virus_check`` decided about an upload."""

    CLEAN = "clean"
    INFECTED = "infected"  # refused
    UNAVAILABLE = "unavailable"  # the scanner did not answer: refused
    UNSCANNED = "unscanned"  # no scanner configured: stored unscanned


class ScannerUnavailable(ServiceUnavailable):
    """clamd is configured but gave no verdict: unreachable, timed out, or erred.

    Includes clamd's own errors such as "INSTREAM size limit exceeded", so a
    file bigger than its StreamMaxLength is refused rather than passed unscanned.
    Upload forms turn it into an error next to the file field (``virus_check``);
    anywhere else it gets the 503 page (portal.middleware).
    """

    service = SCANNER


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    # The name clamd reports for what it found, e.g. "Win.Test.EICAR_HDB-1".
    signature: str = ""


def scanner_configured() -> bool:
    """True when ``settings.CLAMAV_ADDRESS`` is set.

    Any non-blank value counts, so a mistyped address makes uploads fail loudly
    (``ImproperlyConfigured``) instead of silently turning scanning off.
    """
    return bool(_address_setting())


def scanner_deploy_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """``check --deploy``: an error without a scanner, a warning when an operator
    has switched scanning off. https://docs.djangoproject.com/en/5.2/topics/checks/"""
    if getattr(settings, "CLAMAV_DISABLED", False):
        return [
            checks.Warning(
                DISABLED_MESSAGE,
                hint="Set DJANGO_CLAMAV_ADDRESS to a clamd and remove "
                "DJANGO_CLAMAV_DISABLED.",
                id="documents.W001",
            )
        ]
    if not scanner_configured():
        return [
            checks.Error(
                "No virus scanner is configured: uploaded files would be stored "
                "without a virus scan.",
                hint="Set DJANGO_CLAMAV_ADDRESS to clamd's host:port, or set "
                "DJANGO_CLAMAV_DISABLED=true to run without scanning on purpose.",
                id="documents.E001",
            )
        ]
    return []


def virus_check(
    upload, *, user, request, infected_action: str, unavailable_action: str
) -> ScanVerdict:
    """Scan an upload before it is stored; ``ScanVerdict.UNSCANNED`` where no
    scanner is configured (development, or production with
    DJANGO_CLAMAV_DISABLED=true). Every upload path calls this.

    Run it outside any transaction: a refusal's audit event (the caller's
    ``infected_action`` or ``unavailable_action``, from its app's
    ``audit_actions``) must be kept although nothing else is.
    """
    if not scanner_configured():
        # For whoever runs the server, not the uploader: the console in
        # development, the service log where scanning is switched off.
        logger.warning("Upload stored without a virus scan: no scanner configured")
        return ScanVerdict.UNSCANNED
    try:
        result = scan_file(upload)
    except ScannerUnavailable:
        logger.exception("Virus scanner unreachable; upload refused")
        audit_record(
            action=unavailable_action,
            request=request,
            actor=user,
            outcome=Outcome.FAILURE,
            detail={"size": upload.size},
        )
        return ScanVerdict.UNAVAILABLE
    if result.clean:
        return ScanVerdict.CLEAN
    logger.warning("Infected upload refused: %s", result.signature)
    audit_record(
        action=infected_action,
        request=request,
        actor=user,
        outcome=Outcome.DENIED,
        detail={"signature": result.signature, "size": upload.size},
    )
    return ScanVerdict.INFECTED


def scan_file(fileobj, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> ScanResult:
    """Stream ``fileobj`` from its start to clamd and return the verdict.

    Reads ``chunk_size`` bytes at a time, never the whole file, and leaves a
    seekable file rewound so the caller can save it afterwards. Raises
    ``ScannerUnavailable`` when clamd cannot give a verdict, and ``RuntimeError``
    when no scanner is configured.
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    address = _scanner_address()
    _rewind(fileobj)
    try:
        reply = _instream(address, fileobj, chunk_size)
    finally:
        _rewind(fileobj)
    return _scan_result(reply)


def scanner_ping(*, timeout: float | None = None) -> bool:
    """True when clamd answers PING with PONG; for health checks, which pass
    a ``timeout`` shorter than a scan's.

    Raises ``RuntimeError`` when no scanner is configured, like ``scan_file``.
    """
    address = _scanner_address()
    try:
        with _connect(address, timeout=timeout) as connection:
            connection.sendall(PING_COMMAND)
            return _read_reply(connection) == "PONG"
    except (OSError, ScannerUnavailable):
        return False


def _address_setting() -> str:
    return (getattr(settings, "CLAMAV_ADDRESS", "") or "").strip()


def _scanner_address() -> tuple[str, int]:
    value = _address_setting()
    if not value:
        raise RuntimeError(
            "No virus scanner is configured (CLAMAV_ADDRESS is empty); "
            "check scanner_configured() first."
        )
    host, _, port = value.rpartition(":")
    # Brackets allow an IPv6 address, as in "[::1]:3310".
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ImproperlyConfigured(
            f"CLAMAV_ADDRESS must be host:port, e.g. 127.0.0.1:3310, not {value!r}"
        )
    return host, int(port)


def _connect(
    address: tuple[str, int], *, timeout: float | None = None
) -> socket.socket:
    # A short wait to connect (clamd is on the private network: no answer
    # means it is down), then the timeout applies to each send and receive,
    # not to the whole scan, so a large file that keeps moving is not cut off.
    connect_timeout = getattr(settings, "CLAMAV_CONNECT_TIMEOUT", 3)
    if timeout is None:
        timeout = getattr(settings, "CLAMAV_TIMEOUT", 15)
    try:
        connection = socket.create_connection(
            address, timeout=min(connect_timeout, timeout)
        )
    except OSError as error:
        raise ScannerUnavailable(
            f"Cannot reach clamd at {address[0]}:{address[1]}: {error}"
        ) from error
    connection.settimeout(timeout)
    return connection


def _instream(address: tuple[str, int], fileobj, chunk_size: int) -> str:
    with _connect(address) as connection:
        _send(connection, INSTREAM_COMMAND)
        # Errors reading the file itself are not the scanner's fault: they
        # propagate as they are, outside the socket error handling.
        while chunk := fileobj.read(chunk_size):
            _send(connection, CHUNK_LENGTH.pack(len(chunk)) + chunk)
        _send(connection, END_OF_STREAM)
        try:
            return _read_reply(connection)
        except OSError as error:
            raise ScannerUnavailable(f"No reply from clamd: {error}") from error


def _send(connection: socket.socket, data: bytes) -> None:
    try:
        connection.sendall(data)
    except TimeoutError as error:
        raise ScannerUnavailable("clamd stopped reading within the timeout") from error
    except OSError as error:
        # clamd stops reading and replies with an error once the stream passes
        # its StreamMaxLength; that reply explains the failure better.
        try:
            reply = _read_reply(connection)
        except (OSError, ScannerUnavailable):
            reply = ""
        raise ScannerUnavailable(
            f"clamd stopped reading the stream: {reply or error}"
        ) from error


def _read_reply(connection: socket.socket) -> str:
    """clamd's reply up to its terminating NUL.

    A reply cut short is refused rather than read: "stream: OK" could be the
    start of "stream: OK.Something FOUND".
    """
    received = b""
    while b"\0" not in received:
        if len(received) > MAX_REPLY_BYTES:
            raise ScannerUnavailable("clamd's reply is too long")
        data = connection.recv(1024)
        if not data:
            raise ScannerUnavailable(
                f"clamd closed the connection mid-reply: {received[:200]!r}"
            )
        received += data
    return received.partition(b"\0")[0].decode("utf-8", "replace").strip()


def _scan_result(reply: str) -> ScanResult:
    # Replies: "stream: OK", "stream: <signature> FOUND", or "<message> ERROR".
    if reply == "stream: OK":
        return ScanResult(clean=True)
    if found := FOUND_REPLY.fullmatch(reply):
        return ScanResult(clean=False, signature=found["signature"])
    if reply.endswith(" ERROR"):
        raise ScannerUnavailable(f"clamd could not scan: {reply}")
    raise ScannerUnavailable(f"Unexpected reply from clamd: {reply!r}")


def _rewind(fileobj) -> None:
    seekable = getattr(fileobj, "seekable", None)
    if seekable is not None and seekable():
        fileobj.seek(0)
