"""A whole exchange on S3: share through the form, download through the view,
recall and purge, against the local S3 server with the production options."""

import random

import pytest
from django.urls import reverse

from accounts.models import Role
from documents.models import SharedFile
from tests.conftest import verified_client_for
from tests.documents import s3
from tests.documents.s3 import s3_client
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import pdf, shared, upload

s3_server = s3.s3_server
s3_storage = s3.s3_storage

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_s3(s3_storage, monkeypatch):
    monkeypatch.setattr(SharedFile._meta.get_field("file"), "storage", s3_storage)
    return s3_storage


def test_share_download_recall_and_purge_on_s3(
    on_s3, s3_server, django_capture_on_commit_callbacks
):
    a, b = OrganisationFactory(), OrganisationFactory()
    sender = UserFactory(organisation=a, roles=[Role.REFERRER])
    reader = UserFactory(organisation=b, roles=[Role.REFERRER])
    filler = random.Random(0).randbytes(1024 * 1024)  # does not compress: ~1 MB
    content = pdf(lambda doc: setattr(doc.Root, "Filler", doc.make_stream(filler)))
    share = shared(sender, [b], files=[upload("plan.pdf", content)])
    item = share.files.get()

    client = s3_client(s3_server)
    key = item.file.name
    head = client.head_object(Bucket=on_s3.bucket_name, Key=key)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentLength"] == len(content)
    grants = client.get_object_acl(Bucket=on_s3.bucket_name, Key=key)["Grants"]
    assert not [g for g in grants if "AllUsers" in str(g["Grantee"])]

    response = verified_client_for(reader).get(item.get_download_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content

    sender_client = verified_client_for(sender)
    with django_capture_on_commit_callbacks(execute=True):
        sender_client.post(
            reverse("documents:recall", args=[share.public_id]),
            {"reason": "Superseded"},
        )
    listed = client.list_objects_v2(Bucket=on_s3.bucket_name).get("Contents", [])
    assert key not in [entry["Key"] for entry in listed]
    assert verified_client_for(reader).get(item.get_download_url()).status_code == 404


def test_the_sweeper_finds_orphans_on_s3_and_keeps_referenced_files(on_s3):
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from files.stored import storage_sweep

    a, b = OrganisationFactory(), OrganisationFactory()
    sender = UserFactory(organisation=a, roles=[Role.REFERRER])
    kept = shared(sender, [b]).files.get()
    orphan = on_s3.save("shared/2020/01/" + "a" * 32, ContentFile(b"left over"))

    early = storage_sweep(now=timezone.now() + timedelta(hours=1))
    assert early.orphans["shared_file"] == 0  # may still be uploading
    result = storage_sweep(now=timezone.now() + timedelta(days=2))
    assert result.orphans["shared_file"] == 1
    assert not on_s3.exists(orphan)
    assert on_s3.exists(kept.file.name)
