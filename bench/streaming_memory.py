"""Peak server memory while a 200 MB file is shared and then downloaded.

Starts gunicorn (one sync worker, so one process holds the whole request) on
loopback with a throwaway SQLite database and private folder, signs a user in
with a verified second factor, uploads the file through the real form with
curl (which streams it), downloads it again, and samples the worker's resident
memory (RSS, from /proc) every 20 ms. Prints JSON:

    {"file_mb": 200, "baseline_rss_mb": ..., "upload_peak_growth_mb": ...,
     "download_peak_growth_mb": ..., "upload_seconds": ..., "download_seconds": ...}

Run: .venv/bin/python bench/streaming_memory.py [--mb 200]
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CURL = shutil.which("curl") or "/usr/bin/curl"


def _curl(*args: str) -> str:
    """curl's output; curl streams a file upload rather than loading it."""
    # Our own fixed arguments and loopback URLs: nothing untrusted.
    return subprocess.run(  # noqa: S603
        [CURL, "-s", *args], check=True, capture_output=True, text=True
    ).stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


class Sampler:
    """The highest RSS of a process while a block runs."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _rss_kb(self.pid))
            time.sleep(0.02)

    @contextmanager
    def watching(self):
        self.peak = _rss_kb(self.pid)
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()
            self._stop.clear()


def _django_env(workdir: Path, max_mb: int) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.dev",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "DJANGO_PRIVATE_MEDIA_ROOT": str(workdir / "private"),
        "DJANGO_DOCUMENTS_MAX_UPLOAD_MB": str(max_mb),
        "DJANGO_CLAMAV_ADDRESS": "",
        "PYTHONPATH": str(REPO),
    }


SETUP = """
import uuid
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from accounts.models import Organisation, Role, User, role_group
from tests.factories.agreements import party_to_stand_in_agreement
a = Organisation.objects.create(name="Sender", slug="sender", type="police")
b = Organisation.objects.create(name="Reader", slug="reader", type="housing")
# Files reach only parties to the ISA in force that acknowledged it: both
# are made parties, as the test factories make theirs.
party_to_stand_in_agreement(a)
party_to_stand_in_agreement(b)
user = User.objects.create_user("bench", organisation=a, password=str(uuid.uuid4()))
user.groups.add(role_group(Role.REFERRER))
device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
session = SessionStore()
session.update({
    "_auth_user_id": str(user.pk),
    "_auth_user_backend": "accounts.backends.PartnerBackend",
    "_auth_user_hash": user.get_session_auth_hash(),
    DEVICE_ID_SESSION_KEY: device.persistent_id,
})
session.create()
print(session.session_key, b.pk)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="file size in MB")
    parser.add_argument(
        "--migrated-copy-of",
        type=Path,
        help="a migrated SQLite database to copy rather than migrating afresh "
        "(the test suite passes its own)",
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    env = _django_env(workdir, args.mb + 10)
    server = None
    try:
        if args.migrated_copy_of:
            shutil.copyfile(args.migrated_copy_of, workdir / "bench.sqlite3")
        subprocess.run(  # noqa: S603 (our own manage.py, fixed arguments)
            [PYTHON, "manage.py", "migrate", "--no-input", "-v0"],
            cwd=REPO, env=env, check=True,
        )  # fmt: skip
        out = subprocess.run(  # noqa: S603
            [PYTHON, "manage.py", "shell", "-c", SETUP],
            cwd=REPO, env=env, check=True, capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        session_key, reader_pk = out[-2], out[-1]
        port = _free_port()
        server = subprocess.Popen(  # noqa: S603
            [PYTHON, "-m", "gunicorn", "portal.wsgi", "-w", "1", "-b",
             f"127.0.0.1:{port}", "--timeout", "300"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        jar = workdir / "cookies.txt"
        jar.write_text(f"127.0.0.1\tFALSE\t/\tFALSE\t0\tsessionid\t{session_key}\n")
        for _ in range(100):
            try:
                form = _curl(
                    "-f", "-b", str(jar), "-c", str(jar), f"{base}/files/share/"
                )
                break
            except subprocess.CalledProcessError:
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not start")
        worker = _children(server.pid)[0]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)[1]
        big = workdir / "big.txt"
        line = b"Incident log line for the streaming benchmark, nothing more.\n"
        with big.open("wb") as handle:
            for _ in range(args.mb * 1024 * 1024 // len(line)):
                handle.write(line)
        baseline = _rss_kb(worker)
        sampler = Sampler(worker)
        day = time.localtime(time.time() + 10 * 86400)
        started = time.monotonic()
        with sampler.watching():
            upload = _curl(
                "-o", str(workdir / "upload.html"),
                "-w", "%{http_code} %{redirect_url}",
                "-b", str(jar), "-c", str(jar),
                "-H", f"Referer: {base}/files/share/",
                "-F", f"csrfmiddlewaretoken={token}",
                "-F", f"submission_key={uuid.uuid4()}",
                "-F", f"files=@{big};type=text/plain",
                "-F", "target=organisations",
                "-F", f"organisations={reader_pk}",
                "-F", f"expires_0={day.tm_mday}",
                "-F", f"expires_1={day.tm_mon}",
                "-F", f"expires_2={day.tm_year}",
                f"{base}/files/share/",
            ).split()  # fmt: skip
        upload_seconds = time.monotonic() - started
        upload_peak = sampler.peak
        if upload[0] != "302":
            errors = re.findall(
                r"<li><a href=\"#[^\"]+\">([^<]+)</a>",
                (workdir / "upload.html").read_text(),
            )
            raise SystemExit(f"upload failed: {upload} {errors}")
        share_page = _curl("-b", str(jar), upload[1])
        link = re.search(r'href="(/files/[^"]+/download/)"', share_page)[1]
        after_upload = _rss_kb(worker)
        started = time.monotonic()
        with sampler.watching():
            size = _curl(
                "-o", "/dev/null", "-w", "%{size_download}", "-b", str(jar),
                f"{base}{link}",
            )  # fmt: skip
        download_seconds = time.monotonic() - started
        if int(size) != big.stat().st_size:
            raise SystemExit(f"downloaded {size} bytes of {big.stat().st_size}")
        print(
            json.dumps(
                {
                    "file_mb": args.mb,
                    "baseline_rss_mb": round(baseline / 1024, 1),
                    "upload_peak_growth_mb": round((upload_peak - baseline) / 1024, 1),
                    "download_peak_growth_mb": round(
                        (sampler.peak - after_upload) / 1024, 1
                    ),
                    "upload_seconds": round(upload_seconds, 1),
                    "download_seconds": round(download_seconds, 1),
                },
                indent=2,
            )
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
