"""``manage.py dev_server``: the development server, with uploads virus scanned.

``make run`` uses it. Where ClamAV is installed and no scanner is configured,
it starts a local clamd (files.local_clamd: the EICAR test signature only,
so the scan path really runs and EICAR is refused) and stops it when the server
stops. With DJANGO_CLAMAV_ADDRESS set it uses that clamd instead. Without
ClamAV it says here, in the console, that uploads are stored unscanned; the
people uploading are not told, as in production nobody uploads unscanned
unless an operator chose DJANGO_CLAMAV_DISABLED=true.

Beside the server it runs the background worker (``manage.py run_worker``:
queued emails, pack builds and the schedule), and stops it when the server
stops, as production runs it as a process of its own.
"""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from files import local_clamd, scanning

# Seconds the worker has to finish its task after being asked to stop.
WORKER_STOP_SECONDS = 10


def start_worker(args: list[str], *, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(args, env=env)  # noqa: S603 (our interpreter)


def stop_worker(worker: subprocess.Popen) -> None:
    """Ask the worker to stop after its current task; end it if it will not."""
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def run_server(args: list[str], *, env: dict[str, str]) -> None:
    # The server runs as a child so that it, and its autoreloader's children,
    # read the scanner's address from the environment like any setting.
    subprocess.run(args, env=env, check=False)  # noqa: S603 (our interpreter)


class Command(BaseCommand):
    help = (
        "Serve the portal for development; uploads are scanned by a local "
        "clamd when ClamAV is installed."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        if not settings.DEBUG:
            raise CommandError("dev_server is for development, with DEBUG on.")
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
        stop = None
        if settings.CLAMAV_DISABLED:
            self._unscanned("virus scanning is switched off (DJANGO_CLAMAV_DISABLED)")
        elif scanning.scanner_configured():
            self.stdout.write(
                f"Uploads are scanned by clamd at {settings.CLAMAV_ADDRESS}."
            )
        elif missing := local_clamd.clamav_missing():
            self._unscanned(
                f"ClamAV is not installed ({' and '.join(missing)} not found); "
                f"install it with `{local_clamd.INSTALL_HINT}`"
            )
        else:
            folder = Path(settings.BASE_DIR) / "var" / "dev-clamd"
            shutil.rmtree(folder, ignore_errors=True)  # the last run's config and log
            folder.mkdir(parents=True)
            host, port, stop = local_clamd.start_clamd(folder)
            env["DJANGO_CLAMAV_ADDRESS"] = f"{host}:{port}"
            self.stdout.write(
                f"Uploads are scanned by a local clamd at {host}:{port}, which "
                "knows only the EICAR test file (log in var/dev-clamd)."
            )
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        worker = start_worker([*manage, "run_worker"], env=env)
        self.stdout.write(
            "Background tasks and scheduled jobs run in a worker beside the server."
        )
        try:
            run_server([*manage, "runserver", addrport], env=env)
        except KeyboardInterrupt:
            pass
        finally:
            stop_worker(worker)
            if stop is not None:
                stop()

    def _unscanned(self, reason: str) -> None:
        self.stderr.write(
            self.style.WARNING(f"Uploads are stored without a virus scan: {reason}.")
        )
