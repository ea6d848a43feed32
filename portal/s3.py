"""The S3 options for private files, read by the production settings and the
S3 tests, so the tests exercise exactly what production runs.

A platform module: settings import no app.
"""

from typing import Any


def s3_options(
    *,
    bucket: str,
    region: str | None,
    endpoint_url: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    connect_timeout: float = 3.0,
    read_timeout: float = 10.0,
    max_attempts: int = 2,
) -> dict[str, Any]:
    """S3Storage options for private files, used by production and the tests.

    The timeouts and attempts default to the settings' own defaults
    (``S3_CONNECT_TIMEOUT`` and friends in portal/settings/base.py).
    https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
    """
    # Imported here: boto3 is slow to import and settings import this module.
    from botocore.config import Config

    options: dict[str, Any] = {
        "bucket_name": bucket,
        "region_name": region,
        "endpoint_url": endpoint_url,
        # Objects are never public; reads go through our view or a signed URL.
        "default_acl": "private",
        # Never replace an existing object; a clash gets a new name instead.
        "file_overwrite": False,
        "querystring_auth": True,
        "querystring_expire": 60,
        "signature_version": "s3v4",
        # A custom domain makes url() return unsigned links: keep it off even if
        # an AWS_S3_CUSTOM_DOMAIN setting appears somewhere.
        "custom_domain": None,
        "object_parameters": {"ServerSideEncryption": "AES256"},
        # storage.open() downloads the whole object into a SpooledTemporaryFile
        # (default max 0 = all in memory): spill to disk beyond 5 MB. Reads in
        # our code use stream_chunks(), which does not go through open().
        "max_memory_size": 5 * 1024 * 1024,
        # A given client config replaces the one django-storages would build,
        # so it carries the signature version too. Without timeouts botocore
        # waits 60 s per read and retries up to 4 times in "legacy" mode: a
        # hung endpoint held a worker until gunicorn killed it.
        # https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html
        "client_config": Config(
            signature_version="s3v4",
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": max_attempts, "mode": "standard"},
        ),
    }
    # Without explicit keys boto3 uses its own chain (AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY, ~/.aws, an instance role).
    if access_key or secret_key:
        options["access_key"] = access_key
        options["secret_key"] = secret_key
    return options
