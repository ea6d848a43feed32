"""Private storage for shared files: where they live and how they are read back.

Files are read in fixed-size chunks so that a 200 MB document never sits in
memory whole, on local disk and on S3 alike.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.core.files.storage import FileSystemStorage, Storage, storages
from django.utils import timezone

DEFAULT_CHUNK_SIZE = 256 * 1024

# Prefixes come from our code, never from a request: keep them plain path words.
_PREFIX = re.compile(r"[a-z0-9_-]+(?:/[a-z0-9_-]+)*")


def shared_files_storage() -> Storage:
    """The storage that holds shared files: the one place to change it later."""
    return storages["default"]


def generated_name(prefix: str = "shared") -> str:
    """A fresh storage name such as ``shared/2026/12/<uuid4 hex>``.

    Nothing from the upload (file name, extension) goes into it, so a name can
    never carry a path trick or leak what the file is; the original name is
    kept in the database instead. The year and month only keep folders small.
    """
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"Invalid storage prefix: {prefix!r}")
    now = timezone.now()
    return f"{prefix}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}"


class ChunkStream(Iterator[bytes]):
    """Chunks of one stored file; closes it when exhausted or on close().

    A class rather than a generator: Django's StreamingHttpResponse calls
    close() when the response ends, and close() on a generator that never
    started would skip its ``finally`` and leave the file or socket open.
    """

    def __init__(self, chunks: Iterator[bytes], close: Callable[[], None]):
        self._chunks = chunks
        self._close = close
        self.closed = False

    def __iter__(self) -> "ChunkStream":
        return self

    def __next__(self) -> bytes:
        if self.closed:
            raise StopIteration
        try:
            return next(self._chunks)
        except BaseException:
            # StopIteration at the end, or any read error: release the file.
            self.close()
            raise

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._close()

    def __enter__(self) -> "ChunkStream":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def stream_chunks(
    storage: Storage, name: str, *, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> ChunkStream:
    """The stored file's bytes, ``chunk_size`` at a time, never the whole file.

    The file is opened now, so a missing one raises FileNotFoundError here
    (before a response starts), and read lazily as the result is iterated.
    Close the result if you stop early; StreamingHttpResponse does.
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    if _is_s3(storage):
        return _s3_chunks(storage, name, chunk_size)
    # FileSystemStorage.open() returns the real file: read() streams from disk.
    # Other backends get the same treatment and their own buffering.
    file = storage.open(name, "rb")
    return ChunkStream(iter(lambda: file.read(chunk_size), b""), file.close)


def local_file(storage: Storage, name: str):
    """The stored file opened for reading as a real file on this machine's
    disk (one a WSGI server can send with sendfile), or None when the storage
    keeps its files elsewhere. Raises FileNotFoundError for a missing file."""
    if not isinstance(storage, FileSystemStorage):
        return None  # S3, or memory in tests: no path on this machine
    # storage.path() refuses names outside its root (SuspiciousFileOperation).
    return open(storage.path(name), "rb")  # the response closes it


def signed_url(storage: Storage, name: str, *, seconds: int, headers: dict) -> str:
    """A signed S3 link to the stored file that works for ``seconds``, which
    makes S3 answer with ``headers`` (its response-* overrides: type,
    disposition, cache control). Raises FileNotFoundError for a missing file:
    a link to nothing would only show the person S3's own error page."""
    if not storage.exists(name):
        raise FileNotFoundError(f"File does not exist: {name}")
    return storage.url(name, parameters=headers, expire=seconds)


def is_s3(storage: Storage) -> bool:
    """Whether ``storage`` keeps its files in S3 (django-storages)."""
    return _is_s3(storage)


def _is_s3(storage: Storage) -> bool:
    # Imported here: boto3 is slow to import and settings import this module.
    from storages.backends.s3 import S3Storage

    return isinstance(storage, S3Storage)


def _s3_chunks(storage: Any, name: str, chunk_size: int) -> ChunkStream:
    """Stream an S3 object straight from the GetObject response body.

    S3Storage.open() would first download the whole object into a
    SpooledTemporaryFile, so the boto3 client is called directly.
    """
    from botocore.exceptions import ClientError
    from s3transfer.constants import ALLOWED_DOWNLOAD_ARGS
    from storages.utils import clean_name

    # The object key exactly as S3Storage builds it in _open, _save, exists,
    # delete and url (django-storages 1.14.6): clean_name() normalises the path
    # and _normalize_name() prepends `location` and refuses to leave it
    # (SuspiciousOperation). There is no public method returning the key, so
    # this private one is used; tests/documents/test_storage.py pins it.
    key = storage._normalize_name(clean_name(name))
    # Pass on download parameters such as SSE-C keys, as S3File does;
    # ServerSideEncryption (SSE-S3) is write-only and filtered out here.
    params = {
        parameter: value
        for parameter, value in storage.get_object_parameters(key).items()
        if parameter in ALLOWED_DOWNLOAD_ARGS
    }
    client = storage.connection.meta.client
    try:
        response = client.get_object(Bucket=storage.bucket_name, Key=key, **params)
    except ClientError as error:
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404:
            raise FileNotFoundError(f"File does not exist: {name}") from error
        raise
    body = response["Body"]
    return ChunkStream(body.iter_chunks(chunk_size), body.close)
