"""Private file storage: round trips, streaming in chunks, and S3's safeguards.

The S3 tests run against a local moto_server (tests/documents/s3.py) with the
same S3Storage options production uses.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import SuspiciousOperation
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages

from files.storage import (
    ChunkStream,
    generated_name,
    shared_files_storage,
    stream_chunks,
)
from portal.s3 import s3_options
from tests.documents import s3
from tests.documents.s3 import ACCESS_KEY, REGION, SECRET_KEY, s3_client
from tests.portal.test_settings import PRODUCTION_ENV

# The moto fixtures, bound here so pytest finds them (tests/documents/conftest.py
# belongs to the scanning tests).
s3_server = s3.s3_server
s3_storage = s3.s3_storage

REPO = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
CHUNK = 256 * 1024


def payload(size: int) -> bytes:
    # Random bytes, so a chunk mix-up or truncation cannot go unnoticed.
    return os.urandom(size)


def collect(stream: ChunkStream, chunk_size: int = CHUNK) -> bytes:
    chunks = list(stream)
    assert chunks, "no chunks"
    assert all(0 < len(chunk) <= chunk_size for chunk in chunks)
    return b"".join(chunks)


class TestGeneratedName:
    def test_shape_has_no_extension_and_no_user_input(self):
        name = generated_name("shared")
        assert re.fullmatch(r"shared/\d{4}/\d{2}/[0-9a-f]{32}", name)

    def test_unique(self):
        names = {generated_name("shared") for _ in range(1000)}
        assert len(names) == 1000

    @pytest.mark.parametrize(
        "prefix", ["", "../etc", "/abs", "shared/", "Shared", "a b", "x.pdf"]
    )
    def test_refuses_odd_prefixes(self, prefix):
        with pytest.raises(ValueError):
            generated_name(prefix)


class TestLocalStorage:
    @pytest.fixture
    def storage(self, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        storage = shared_files_storage()
        assert storage is storages["default"]
        assert isinstance(storage, FileSystemStorage)
        assert Path(storage.location) == tmp_path
        return storage

    def test_round_trip_3mb(self, storage, tmp_path):
        data = payload(3 * MB + 123)
        name = storage.save(generated_name("shared"), ContentFile(data))
        assert (tmp_path / name).read_bytes() == data
        assert collect(stream_chunks(storage, name)) == data

    def test_chunk_size_is_respected(self, storage):
        data = payload(100_000)
        name = storage.save(generated_name("shared"), ContentFile(data))
        chunks = list(stream_chunks(storage, name, chunk_size=30_000))
        assert [len(chunk) for chunk in chunks] == [30_000, 30_000, 30_000, 10_000]
        assert b"".join(chunks) == data

    def test_missing_file_fails_before_streaming(self, storage):
        with pytest.raises(FileNotFoundError):
            stream_chunks(storage, "shared/2026/01/" + "0" * 32)

    def test_path_outside_media_root_is_refused(self, storage):
        with pytest.raises(SuspiciousOperation):
            stream_chunks(storage, "../../etc/passwd")

    @pytest.fixture
    def opened(self, storage, monkeypatch):
        """The files storage.open() hands out, to check they get closed."""
        files = []
        real_open = storage.open

        def recording_open(*args, **kwargs):
            files.append(real_open(*args, **kwargs))
            return files[-1]

        monkeypatch.setattr(storage, "open", recording_open)
        return files

    def test_consumed_lazily_and_closed_when_stopped_early(self, storage, opened):
        name = storage.save(generated_name("shared"), ContentFile(payload(MB)))
        stream = stream_chunks(storage, name)
        assert len(next(stream)) == CHUNK
        assert opened[0].tell() == CHUNK  # only what was asked for was read
        stream.close()
        assert opened[0].closed
        assert list(stream) == []

    def test_closed_even_if_never_started(self, storage, opened):
        name = storage.save(generated_name("shared"), ContentFile(b"x"))
        with stream_chunks(storage, name):
            pass
        assert opened[0].closed

    def test_closed_at_the_end(self, storage, opened):
        name = storage.save(generated_name("shared"), ContentFile(b"hello"))
        assert list(stream_chunks(storage, name)) == [b"hello"]
        assert opened[0].closed

    def test_delete(self, storage, tmp_path):
        name = storage.save(generated_name("shared"), ContentFile(b"gone soon"))
        storage.delete(name)
        assert not storage.exists(name)
        assert not (tmp_path / name).exists()


class TestS3Storage:
    def test_options_are_the_production_ones(self, s3_storage):
        assert s3_storage.default_acl == "private"
        assert s3_storage.file_overwrite is False
        assert s3_storage.querystring_auth is True
        assert s3_storage.querystring_expire == 60
        assert s3_storage.signature_version == "s3v4"
        assert s3_storage.custom_domain is None
        assert s3_storage.object_parameters == {"ServerSideEncryption": "AES256"}
        assert s3_storage.max_memory_size == 5 * MB

    def test_round_trip_3mb(self, s3_storage):
        data = payload(3 * MB + 123)
        name = s3_storage.save(generated_name("shared"), ContentFile(data))
        assert collect(stream_chunks(s3_storage, name)) == data

    def test_same_name_is_not_overwritten(self, s3_storage):
        name = generated_name("shared")
        first = s3_storage.save(name, ContentFile(b"first"))
        second = s3_storage.save(name, ContentFile(b"second"))
        assert first == name
        assert second != first
        assert b"".join(stream_chunks(s3_storage, first)) == b"first"
        assert b"".join(stream_chunks(s3_storage, second)) == b"second"

    def test_object_is_private_and_encrypted(self, s3_storage, s3_server):
        name = s3_storage.save(generated_name("shared"), ContentFile(b"secret"))
        client = s3_client(s3_server)
        key = name  # no `location` in production: the key is the name
        grants = client.get_object_acl(Bucket=s3_storage.bucket_name, Key=key)["Grants"]
        grantees = [grant["Grantee"] for grant in grants]
        assert grantees, "no ACL at all"
        assert all(grantee["Type"] == "CanonicalUser" for grantee in grantees)
        assert not any("AllUsers" in grantee.get("URI", "") for grantee in grantees)
        assert not any(
            "AuthenticatedUsers" in grantee.get("URI", "") for grantee in grantees
        )
        head = client.head_object(Bucket=s3_storage.bucket_name, Key=key)
        assert head["ServerSideEncryption"] == "AES256"

    def test_url_is_a_short_lived_s3v4_presigned_url(self, s3_storage):
        # moto ignores signatures and expiry: check how the URL is built.
        name = s3_storage.save(generated_name("shared"), ContentFile(b"link"))
        url = urlsplit(s3_storage.url(name))
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        assert url.path.endswith("/" + name)
        assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
        assert 0 < int(query["X-Amz-Expires"]) <= 60
        assert re.fullmatch(r"[0-9a-f]{64}", query["X-Amz-Signature"])
        assert query["X-Amz-Credential"].startswith(f"{ACCESS_KEY}/")
        assert query["X-Amz-Credential"].endswith(f"/{REGION}/s3/aws4_request")

    def test_20mb_streams_lazily_in_bounded_chunks(self, s3_storage):
        data = payload(20 * MB)
        digest = hashlib.sha256(data).hexdigest()
        name = s3_storage.save(generated_name("shared"), ContentFile(data))
        del data

        tracemalloc.start()
        try:
            stream = stream_chunks(s3_storage, name)
            # Opening fetches headers only, not the object.
            _, opened_peak = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            hasher = hashlib.sha256()
            sizes = []
            for chunk in stream:
                sizes.append(len(chunk))
                hasher.update(chunk)
                del chunk
            _, streaming_peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()

        assert hasher.hexdigest() == digest
        assert sum(sizes) == 20 * MB
        assert max(sizes) <= CHUNK
        assert len(sizes) >= 20 * MB // CHUNK
        assert opened_peak < 2 * MB, opened_peak
        # About 0.55 MB measured with 256 KiB chunks; S3Storage.open() peaks at
        # 15 MB here even with max_memory_size=5 MB, 30 MB with the default 0.
        assert streaming_peak < 4 * MB, streaming_peak
        assert stream.closed

    def test_missing_key_fails_before_streaming(self, s3_storage):
        with pytest.raises(FileNotFoundError):
            stream_chunks(s3_storage, "shared/2026/01/" + "0" * 32)

    def test_body_released_when_stopped_early(self, s3_storage, monkeypatch):
        name = s3_storage.save(generated_name("shared"), ContentFile(payload(MB)))
        client = s3_storage.connection.meta.client
        bodies = []
        real_get_object = client.get_object

        def get_object(**kwargs):
            response = real_get_object(**kwargs)
            bodies.append(response["Body"])
            return response

        monkeypatch.setattr(client, "get_object", get_object)
        stream = stream_chunks(s3_storage, name)
        assert len(next(stream)) == CHUNK
        stream.close()
        assert bodies[0]._raw_stream.closed

    def test_key_is_normalised_as_django_storages_does(self, s3_storage, s3_server):
        # stream_chunks builds the key with S3Storage's private _normalize_name;
        # with a `location` prefix it must find what save() stored.
        from storages.backends.s3 import S3Storage

        located = S3Storage(
            **s3_options(
                bucket=s3_storage.bucket_name,
                region=REGION,
                endpoint_url=s3_server,
                access_key=ACCESS_KEY,
                secret_key=SECRET_KEY,
            ),
            location="tenant",
        )
        name = located.save("shared/2026/x", ContentFile(b"located"))
        assert name == "shared/2026/x"
        keys = [
            entry["Key"]
            for entry in s3_client(s3_server).list_objects_v2(
                Bucket=s3_storage.bucket_name
            )["Contents"]
        ]
        assert keys == ["tenant/shared/2026/x"]
        assert b"".join(stream_chunks(located, name)) == b"located"
        assert b"".join(stream_chunks(located, "shared/./2026/x")) == b"located"
        with pytest.raises(SuspiciousOperation):
            stream_chunks(located, "../escape")

    def test_delete_removes_the_object(self, s3_storage, s3_server):
        name = s3_storage.save(generated_name("shared"), ContentFile(b"bye"))
        assert s3_storage.exists(name)
        s3_storage.delete(name)
        assert not s3_storage.exists(name)
        listing = s3_client(s3_server).list_objects_v2(Bucket=s3_storage.bucket_name)
        assert listing["KeyCount"] == 0


CLIENT_CONFIG_FIELDS = (
    "signature_version",
    "connect_timeout",
    "read_timeout",
    "retries",
)


def client_config_fields(config) -> dict:
    """What the portal sets on botocore's Config (it has no equality)."""
    return {name: getattr(config, name) for name in CLIENT_CONFIG_FIELDS}


PRODUCTION_OPTIONS = f"""
import json
from django.conf import settings
fields = {CLIENT_CONFIG_FIELDS!r}
print(json.dumps(
    settings.STORAGES["default"],
    default=lambda config: {{name: getattr(config, name) for name in fields}},
))
"""


def test_production_settings_use_the_tested_options():
    """production.py builds its S3 options with s3_options, as the tests do."""
    env = {
        **os.environ,
        **PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "DJANGO_S3_BUCKET": "portal-private-files",
        "DJANGO_S3_REGION": REGION,
    }
    # Our own interpreter with a fixed script: nothing untrusted.
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PRODUCTION_OPTIONS],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    storage = json.loads(result.stdout)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    expected = s3_options(bucket="portal-private-files", region=REGION)
    expected["client_config"] = client_config_fields(expected["client_config"])
    assert storage["OPTIONS"] == expected


def test_every_s3_call_has_timeouts_and_a_retry_limit(s3_storage):
    """A hung endpoint must not hold a worker: botocore's own defaults are
    60 s per read and up to 5 attempts."""
    config = s3_storage.connection.meta.client.meta.config
    assert config.connect_timeout == 3.0
    assert config.read_timeout == 10.0
    # Two attempts in all: the first and one retry.
    assert config.retries == {"total_max_attempts": 2, "mode": "standard"}
    assert config.signature_version == "s3v4"
