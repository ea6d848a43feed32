"""A local clamd with one signature of our making, for the tests and for the
development server (``manage.py dev_server``, which ``make run`` uses).

Debian's ClamAV ships no signatures and may not be able to download any, so
this writes the EICAR test file, makes an MD5 signature of it
(https://docs.clamav.net/manual/Signatures/HashSignatures.html) and starts clamd
on a free port with a clamd.conf of its own (https://linux.die.net/man/5/clamd.conf).
It never reads /etc/clamav or uses Debian's clamav-daemon and freshclam
services, so it neither needs them nor gets in their way. Never used in
production, where DJANGO_CLAMAV_ADDRESS names a clamd with real signatures.
"""

import functools
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

EICAR_SIGNATURE_NAME = "Local.Test.EICAR"
# clamd adds ".UNOFFICIAL" to every signature that is not from ClamAV's own
# signed databases.
EICAR_REPORTED_SIGNATURE = f"{EICAR_SIGNATURE_NAME}.UNOFFICIAL"
HOST = "127.0.0.1"
# clamd loads one signature in well under a second; the margin is for busy CI.
STARTUP_TIMEOUT = 60
# Two tries at another port in case something else takes the free one first.
START_ATTEMPTS = 3
# Debian puts clamd in /usr/sbin, which is not on a normal user's PATH.
SBIN_PATH = "/usr/local/sbin:/usr/sbin:/sbin"
INSTALL_HINT = "apt-get install -y clamav-daemon clamav"


def eicar_bytes() -> bytes:
    """The EICAR anti-virus test file, https://www.eicar.org/download-anti-malware-testfile/.

    Joined from two pieces so that this source file does not match the signature
    itself and get quarantined by a scanner on a developer's machine.
    """
    first = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR"
    second = "-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    return (first + second).encode("ascii")


def find_program(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path=SBIN_PATH)


def clamav_missing() -> list[str]:
    """The ClamAV programs this needs that are not installed."""
    return [name for name in ("clamd", "sigtool") if find_program(name) is None]


def start_clamd(
    tmp_dir: Path, *, stream_max_length: str = "300M"
) -> tuple[str, int, Callable[[], None]]:
    """Start clamd in ``tmp_dir`` and return its host, port and a stop function.

    ``stream_max_length`` is clamd's StreamMaxLength: the most an INSTREAM scan
    accepts before clamd answers "INSTREAM size limit exceeded".
    """
    tmp_dir = Path(tmp_dir)
    database = tmp_dir / "DB"
    database.mkdir(exist_ok=True)
    _write_eicar_signature(tmp_dir, database)
    failures = []
    for attempt in range(START_ATTEMPTS):
        port = _free_port()
        config = _write_config(tmp_dir, database, port, stream_max_length)
        output_path = tmp_dir / f"clamd-{attempt}.out"
        with output_path.open("wb") as output:
            # The program path comes from shutil.which and every argument is ours.
            process = subprocess.Popen(  # noqa: S603
                [find_program("clamd"), "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        if _wait_until_answering(process, port):
            return HOST, port, functools.partial(_stop, process)
        _stop(process)
        failures.append(output_path.read_text(errors="replace")[-2000:])
    raise RuntimeError(
        f"clamd did not start in {START_ATTEMPTS} attempts; last output:\n"
        + failures[-1]
    )


def _write_eicar_signature(tmp_dir: Path, database: Path) -> None:
    eicar_file = tmp_dir / "eicar.com"
    eicar_file.write_bytes(eicar_bytes())
    # sigtool prints "md5:size:file name"; the name becomes the signature's.
    # The program path comes from shutil.which and every argument is ours.
    hash_line = subprocess.run(  # noqa: S603
        [find_program("sigtool"), "--md5", str(eicar_file)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    md5, size, _ = hash_line.split(":", 2)
    (database / "local.hdb").write_text(f"{md5}:{size}:{EICAR_SIGNATURE_NAME}\n")


def _write_config(
    tmp_dir: Path, database: Path, port: int, stream_max_length: str
) -> Path:
    # No LocalSocket: TCP only, so nothing clashes with Debian's
    # /run/clamav/clamd.ctl. No User: clamd keeps the user that started it (root
    # under CI) instead of switching to "clamav", which cannot read tmp_dir.
    # The size limits let the tests stream files of 200 MB and more.
    config = tmp_dir / f"clamd-{port}.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"TCPAddr {HOST}",
                f"TCPSocket {port}",
                f"DatabaseDirectory {database}",
                f"LogFile {tmp_dir / f'clamd-{port}.log'}",
                "LogTime yes",
                f"StreamMaxLength {stream_max_length}",
                "MaxFileSize 300M",
                "MaxScanSize 300M",
                # The database never changes during a run: no need to re-read it.
                "SelfCheck 0",
                "",
            ]
        )
    )
    return config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _wait_until_answering(process: subprocess.Popen, port: int) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if _pings(port):
            return True
        time.sleep(0.05)
    return False


def _pings(port: int) -> bool:
    # Independent of files.scanning, so a bug there cannot hide here.
    try:
        with socket.create_connection((HOST, port), timeout=1) as connection:
            connection.sendall(b"zPING\0")
            return connection.recv(16) == b"PONG\0"
    except OSError:
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
