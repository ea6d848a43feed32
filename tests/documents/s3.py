"""A local S3 (moto_server) for storage tests, and S3Storage on a fresh bucket.

moto does not enforce presigned signatures or expiry (see docs/stack-notes.md): test
how URLs are built, not that moto refuses them. Import the fixtures into a
test module (``from tests.documents.s3 import s3_server, s3_storage``).
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from portal.s3 import s3_options

REGION = "eu-west-2"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
MOTO_SERVER = Path(sys.executable).parent / "moto_server"
START_TIMEOUT = 30


def s3_client(endpoint_url: str):
    """A plain boto3 client on the moto server, to look behind S3Storage."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(endpoint_url: str) -> bool:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
    )
    try:
        client.list_buckets()
    except (BotoCoreError, ClientError):
        return False
    return True


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """The endpoint URL of a moto_server that lives for the whole test run.

    Skipped when moto_server is missing, except under CI, where that fails.
    """
    if not MOTO_SERVER.exists():
        message = (
            f"moto_server not found at {MOTO_SERVER}: "
            "pip install -r requirements-dev.txt -c constraints.txt"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)

    port = _free_port()
    endpoint_url = f"http://127.0.0.1:{port}"
    # A file, not a pipe: the server logs every request, and a full pipe that
    # nobody reads would block it.
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with log_path.open("wb") as log:
        # Fixed arguments, our own venv's executable: nothing untrusted.
        server = subprocess.Popen(  # noqa: S603
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(endpoint_url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"moto_server did not answer on {endpoint_url}:\n"
                    + log_path.read_text(errors="replace")
                )
            time.sleep(0.2)
        yield endpoint_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def s3_storage(s3_server):
    """S3Storage on a new, empty bucket, with the production options."""
    from storages.backends.s3 import S3Storage

    bucket = f"test-{uuid.uuid4().hex[:16]}"
    client = s3_client(s3_server)
    client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    storage = S3Storage(
        **s3_options(
            bucket=bucket,
            region=REGION,
            endpoint_url=s3_server,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
        )
    )
    yield storage
    # Empty and drop the bucket so the session's server does not accumulate
    # every test's objects in memory.
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", ()):
            client.delete_object(Bucket=bucket, Key=entry["Key"])
    client.delete_bucket(Bucket=bucket)
