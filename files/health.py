"""Health checks for the virus scanner and the store of shared files
(settings.HEALTH_CHECKS; portal.health runs them)."""

import errno
import shutil
import tempfile
import threading
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage

from .scanning import scanner_configured, scanner_ping
from .storage import _is_s3, shared_files_storage


def scanner_check() -> str:
    """ "off" without a scanner (switched off on purpose, or development)."""
    if not scanner_configured():
        return "off"
    if scanner_ping(timeout=settings.HEALTH_CHECK_TIMEOUT):
        return "ok"
    return "unreachable"


def storage_check() -> str:
    """Reach the store: S3's bucket, or the folder on disk with room for one
    more upload. Run on a helper thread so a hung endpoint or network disk
    fails the check after the health timeout instead of holding the probe
    (S3's own timeouts and retries add up to much longer)."""
    outcome: list = []

    def probe():
        try:
            outcome.append(_storage_state())
        except Exception as error:  # handed to the caller's thread below
            outcome.append(error)

    thread = threading.Thread(target=probe, name="health-storage", daemon=True)
    thread.start()
    thread.join(settings.HEALTH_CHECK_TIMEOUT)
    if not outcome:
        return "timeout"
    if isinstance(outcome[0], Exception):
        raise outcome[0]
    return outcome[0]


def _storage_state() -> str:
    storage = shared_files_storage()
    if _is_s3(storage):
        client = storage.connection.meta.client
        client.head_bucket(Bucket=storage.bucket_name)
        return "ok"
    if isinstance(storage, FileSystemStorage):
        folder = _nearest_existing(Path(storage.location))
        # A real write: permission bits say nothing to root, nor of a file
        # system mounted read-only after an error.
        try:
            with tempfile.TemporaryFile(dir=folder, prefix=".health-"):
                pass
        except OSError as error:
            if error.errno == errno.ENOSPC:
                return "full"
            if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                return "read-only"
            raise
        if shutil.disk_usage(folder).free < settings.DOCUMENTS_MAX_UPLOAD_BYTES:
            return "full"  # not even room for one more upload
        return "ok"
    storage.exists("health-check")  # any other backend: at least reach it
    return "ok"


def _nearest_existing(folder: Path) -> Path:
    # The folder is made on the first upload; until then its parent decides.
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder
