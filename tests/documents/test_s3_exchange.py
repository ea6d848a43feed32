"""A whole exchange on S3: share through the form, download through the view,
recall and purge, against the local S3 server with the production options."""

import random
import urllib.parse
import urllib.request

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from documents.models import FileDownload, SharedFile
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


def fetch(url: str) -> bytes:
    """What a browser following the redirect gets from the local S3."""
    assert url.startswith("http://127.0.0.1:")  # the moto server, nothing else
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310
        return answer.read()


def test_a_download_on_s3_is_a_signed_link_for_a_minute(on_s3, s3_server):
    a, b = OrganisationFactory(), OrganisationFactory()
    sender = UserFactory(organisation=a, roles=[Role.REFERRER])
    reader = UserFactory(organisation=b, roles=[Role.REFERRER])
    share = shared(sender, [b], files=[upload("Risk – flat 3.pdf", pdf())])
    item = share.files.get()

    response = verified_client_for(reader).get(item.get_download_url())

    assert response.status_code == 302
    location = urllib.parse.urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == s3_server
    query = urllib.parse.parse_qs(location.query)
    assert query["X-Amz-Expires"] == ["60"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    # S3 answers with the portal's own download headers.
    assert query["response-content-type"] == ["application/pdf"]
    assert query["response-content-disposition"] == [
        "attachment; filename*=utf-8''Risk%20%E2%80%93%20flat%203.pdf"
    ]
    assert query["response-cache-control"] == ["private, no-store"]
    # The link is a credential: not cached, not passed on as a referrer.
    assert response["Cache-Control"] == "private, no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_file_missing_from_s3_is_gone_not_a_link(on_s3):
    a, b = OrganisationFactory(), OrganisationFactory()
    sender = UserFactory(organisation=a, roles=[Role.REFERRER])
    reader = UserFactory(organisation=b, roles=[Role.REFERRER])
    item = shared(sender, [b]).files.get()
    on_s3.delete(item.file.name)

    response = verified_client_for(reader).get(item.get_download_url())

    assert response.status_code == 410
    assert not FileDownload.objects.filter(file=item).exists()
    assert AuditEvent.objects.filter(action="document.download_failed").count() == 1


def test_with_signed_links_off_s3_files_stream_through_the_portal(on_s3, settings):
    settings.S3_SIGNED_DOWNLOAD_SECONDS = 0
    a, b = OrganisationFactory(), OrganisationFactory()
    sender = UserFactory(organisation=a, roles=[Role.REFERRER])
    reader = UserFactory(organisation=b, roles=[Role.REFERRER])
    content = pdf()
    item = shared(sender, [b], files=[upload("plan.pdf", content)]).files.get()

    response = verified_client_for(reader).get(item.get_download_url())

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["Content-Length"] == str(len(content))
    assert response["Content-Disposition"] == 'attachment; filename="plan.pdf"'


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
    # Checked and audited here, then the bytes come from S3 on a signed link.
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="document.downloaded").count() == 1
    assert FileDownload.objects.filter(file=item, user=reader).count() == 1
    assert fetch(response["Location"]) == content

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
