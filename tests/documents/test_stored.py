"""Stored files that cannot be orphaned (documents.stored): the sweeper for
every kind, a crash between writing and committing, a commit whose reply is
lost, a full disk, and a download whose file has gone."""

import errno
import re
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.core.management import call_command
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent, Outcome
from audit.services import audit_chain_verify
from documents.models import FileDownload, Share, SharedFile
from documents.services import FILES_LOST_MESSAGE, ShareRefused, share_create
from files.models import PendingObject
from files.stored import (
    FULL_MESSAGE,
    StorageUnavailable,
    object_write,
    storage_sweep,
    stored_kinds,
    stored_names,
)
from referrals.models import ReferralAttachment
from referrals.services import ReferralRefused, attachment_add
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory, three_agencies
from tests.factories.documents import PDF, files_storage, shared, upload
from tests.factories.referrals import complete_draft

LATER = timedelta(days=2)


@pytest.fixture
def agencies(db):
    a, b = OrganisationFactory(name="Agency A"), OrganisationFactory(name="Agency B")
    return {
        "b": b,
        "sender": UserFactory(organisation=a, roles=[Role.REFERRER]),
        "b_staff": UserFactory(organisation=b, roles=[Role.REFERRER], email="b@x.test"),
    }


def every_stored_name() -> set[str]:
    names = set()
    for kind in stored_kinds():
        names |= set(stored_names(kind.storage, kind.prefix))
    return names


def last_sweep() -> AuditEvent:
    return AuditEvent.objects.filter(action="storage.swept").latest("pk")


@pytest.mark.django_db
class TestSweep:
    def test_old_files_no_row_refers_to_go_for_every_kind(self, agencies):
        storage = files_storage()
        orphans = [
            storage.save(f"shared/2020/01/{uuid.uuid4().hex}", ContentFile(b"x")),
            storage.save(f"referrals/{uuid.uuid4().hex}", ContentFile(b"x")),
            storage.save(f"meeting-packs/{uuid.uuid4().hex}.pdf", ContentFile(b"x")),
            storage.save(f"documents/{uuid.uuid4().hex}.pdf", ContentFile(b"x")),
        ]
        kept = shared(agencies["sender"], [agencies["b"]]).files.get()

        storage_sweep(now=timezone.now() + timedelta(hours=1))
        assert all(storage.exists(name) for name in orphans)  # may be in progress

        result = storage_sweep(now=timezone.now() + LATER)
        assert not any(storage.exists(name) for name in orphans)
        assert storage.exists(kept.file.name)
        # Other tests' files share the folder: at least ours were counted.
        assert result.deleted >= 4
        detail = last_sweep().detail
        for kind in ("shared_file", "referral_attachment", "meeting_pack",
                     "published_document"):  # fmt: skip
            assert detail[kind]["orphans"] >= 1
        # Counts only: no names or contents in the audit log.
        assert "shared/" not in str(detail)

    def test_a_dry_run_counts_and_deletes_nothing(self, agencies):
        storage = files_storage()
        orphan = storage.save(f"referrals/{uuid.uuid4().hex}", ContentFile(b"x"))
        result = storage_sweep(now=timezone.now() + LATER, dry_run=True)
        assert result.orphans["referral_attachment"] >= 1
        assert storage.exists(orphan)
        assert last_sweep().detail["dry_run"] is True

    def test_the_command_reports_per_kind_and_audits_once(self, agencies):
        storage = files_storage()
        orphan = storage.save(
            f"meeting-packs/{uuid.uuid4().hex}.pdf", ContentFile(b"x")
        )
        before = AuditEvent.objects.filter(action="storage.swept").count()
        out = self._call("--grace-hours", "0")
        assert re.search(r"meeting_pack: deleted [1-9]\d* unreferenced", out)
        assert not storage.exists(orphan)
        assert AuditEvent.objects.filter(action="storage.swept").count() == before + 1

    def test_the_command_dry_run_says_would(self, agencies):
        storage = files_storage()
        orphan = storage.save(
            f"meeting-packs/{uuid.uuid4().hex}.pdf", ContentFile(b"x")
        )
        out = self._call("--dry-run", "--grace-hours", "0")
        assert re.search(r"meeting_pack: would delete [1-9]\d* unreferenced", out)
        assert storage.exists(orphan)

    def _call(self, *args) -> str:
        from io import StringIO

        out = StringIO()
        call_command("sweep_storage", *args, stdout=out)
        return out.getvalue()

    def test_a_purged_share_keeps_its_row_and_loses_its_file(self, agencies):
        item = shared(agencies["sender"], [agencies["b"]]).files.get()
        SharedFile.objects.filter(pk=item.pk).update(purged_at=timezone.now())
        storage_sweep(now=timezone.now() + LATER)
        assert not files_storage().exists(item.file.name)
        assert SharedFile.objects.filter(pk=item.pk).exists()


@pytest.mark.django_db
class TestCrashBetweenWriteAndCommit:
    def test_a_file_written_without_its_row_leaves_a_mark_the_sweeper_resolves(
        self, agencies
    ):
        # The process dies after writing, before the share's transaction.
        item = SharedFile(display_name="x.pdf", content_type="application/pdf",
                          size=len(PDF), sha256="0" * 64)  # fmt: skip
        name = object_write(item, "file", ContentFile(PDF), filename="x.pdf")
        assert files_storage().exists(name)
        assert PendingObject.objects.filter(name=name, kind="shared_file").exists()

        storage_sweep(now=timezone.now() + timedelta(hours=1))
        assert files_storage().exists(name)  # perhaps still uploading

        result = storage_sweep(now=timezone.now() + LATER)
        assert result.abandoned["shared_file"] == 1
        assert not files_storage().exists(name)
        assert not PendingObject.objects.exists()

    def test_a_mark_whose_row_committed_is_cleared_and_the_file_kept(self, agencies):
        # The share committed, then the process died before clearing the mark
        # (this test's transaction never commits, so the mark is still there).
        item = shared(agencies["sender"], [agencies["b"]]).files.get()
        assert PendingObject.objects.filter(name=item.file.name).exists()
        result = storage_sweep(now=timezone.now() + LATER)
        assert result.confirmed["shared_file"] == 1
        assert files_storage().exists(item.file.name)
        assert not PendingObject.objects.exists()

    def test_a_saved_share_leaves_no_pending_mark(
        self, agencies, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            shared(agencies["sender"], [agencies["b"]],
                   files=[upload("a.pdf"), upload("b.pdf")])  # fmt: skip
        assert not PendingObject.objects.exists()


def lose_the_reply(on_commit_number: int, before_reply=None):
    """Make the n-th commit succeed on the server but fail for the caller, as
    when a failover or a pooler restart drops the reply."""
    real_commit = connection.commit
    calls = []

    def commit():
        calls.append(1)
        real_commit()
        if len(calls) == on_commit_number:
            if before_reply is not None:
                before_reply()
            raise OperationalError("server closed the connection unexpectedly")

    return mock.patch.object(connection, "commit", side_effect=commit)


@pytest.mark.django_db(transaction=True)
class TestLostReply:
    def test_a_share_whose_reply_is_lost_is_reported_once_with_its_files(
        self, agencies
    ):
        key = uuid.uuid4()
        # Commit 1 is the file's pending mark, commit 2 is the share.
        with lose_the_reply(2):
            share, created = share_create(
                user=agencies["sender"], uploads=[upload("plan.pdf")],
                organisations=[agencies["b"]], submission_key=key,
            )  # fmt: skip
        assert created is False
        assert share.submission_key == key
        item = share.files.get()
        assert files_storage().open(item.file.name).read() == PDF
        assert not PendingObject.objects.exists()
        # The on-commit work that the lost reply skipped still happens.
        assert [m.to for m in mail.outbox] == [["b@x.test"]]
        # The recipient gets the file, not a server error.
        client = verified_client_for(agencies["b_staff"])
        response = client.get(item.get_download_url())
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF

    def test_a_committed_share_whose_file_is_gone_is_reported_as_a_failure(
        self, agencies
    ):
        def lose_files():
            for name in set(stored_names(files_storage(), "shared")):
                files_storage().delete(name)

        with (
            lose_the_reply(2, before_reply=lose_files),
            pytest.raises(ShareRefused, match="could not all be stored"),
        ):
            share_create(
                user=agencies["sender"], uploads=[upload("plan.pdf")],
                organisations=[agencies["b"]], submission_key=uuid.uuid4(),
            )  # fmt: skip
        assert str(FILES_LOST_MESSAGE).startswith("Your files were recorded")

    def test_a_failed_commit_removes_its_files_and_marks(self, agencies):
        before = every_stored_name()

        def fail():
            raise OperationalError("could not commit")

        real_commit = connection.commit
        calls = []

        def commit():
            calls.append(1)
            if len(calls) == 2:
                connection.rollback()
                fail()
            real_commit()

        with mock.patch.object(connection, "commit", side_effect=commit), \
                pytest.raises(OperationalError):  # fmt: skip
            share_create(
                user=agencies["sender"], uploads=[upload("plan.pdf")],
                organisations=[agencies["b"]], submission_key=uuid.uuid4(),
            )  # fmt: skip
        assert every_stored_name() == before
        assert not Share.objects.exists()
        assert not PendingObject.objects.exists()

    def test_an_attachment_whose_reply_is_lost_is_kept_and_returned(self, agencies):
        author = agencies["sender"]
        draft = complete_draft(author)
        with lose_the_reply(2):
            attachment = attachment_add(
                draft=draft, upload=upload("risk.pdf"), user=author
            )
        assert attachment.pk is not None
        assert ReferralAttachment.objects.get(pk=attachment.pk).draft_id == draft.pk
        assert files_storage().open(attachment.file.name).read() == PDF
        assert not PendingObject.objects.exists()


class FullDiskStorage(FileSystemStorage):
    """A file system with ``room`` bytes left: a write that needs more stops
    there, leaving its partial file behind, as a real full disk does."""

    room = 100

    def _save(self, name, content):
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            for chunk in content.chunks():
                if len(chunk) > self.room:
                    handle.write(chunk[: self.room])
                    self.room = 0
                    raise OSError(errno.ENOSPC, "No space left on device")
                handle.write(chunk)
                self.room -= len(chunk)
        return name


@pytest.fixture
def full_disk(settings):
    storage = FullDiskStorage(location=settings.MEDIA_ROOT)
    fields = [
        SharedFile._meta.get_field("file"),
        ReferralAttachment._meta.get_field("file"),
    ]
    with (
        mock.patch.object(fields[0], "storage", storage),
        mock.patch.object(fields[1], "storage", storage),
    ):
        yield storage


@pytest.mark.django_db
class TestFullDisk:
    def test_nothing_is_shared_and_no_partial_file_is_left(self, agencies, full_disk):
        before = every_stored_name()
        full_disk.room = len(PDF) + 10  # the first file fits, the second not
        with pytest.raises(StorageUnavailable) as caught:
            shared(agencies["sender"], [agencies["b"]],
                   files=[upload("a.pdf"), upload("b.pdf")])  # fmt: skip
        assert caught.value.message == FULL_MESSAGE
        assert every_stored_name() == before
        assert not Share.objects.exists()
        assert not SharedFile.objects.exists()
        assert not PendingObject.objects.exists()
        assert audit_chain_verify().intact

    def test_the_form_says_nothing_was_shared_and_keeps_what_was_typed(self, full_disk):
        before = every_stored_name()
        people = three_agencies()
        client = verified_client_for(people[("A", "Referrer")])
        page = client.get(reverse("documents:new")).content.decode()
        key = re.search(r'name="submission_key" value="([^"]+)"', page).group(1)
        day = timezone.localdate() + timedelta(days=10)
        response = client.post(reverse("documents:new"), {
            "submission_key": key, "target": "organisations",
            "organisations": [people[("B", "Referrer")].organisation.pk],
            "note": "For Thursday's panel.", "expires_0": str(day.day),
            "expires_1": str(day.month), "expires_2": str(day.year),
            "files": [upload("a.pdf")],
        })  # fmt: skip
        assert response.status_code == 503
        text = response.content.decode()
        assert "full or cannot be written to just now" in text
        assert "For Thursday&#x27;s panel." in text or "For Thursday's panel." in text
        assert 'id="files-error"' in text or "govuk-error-message" in text
        assert not Share.objects.exists()
        assert every_stored_name() == before

    def test_an_attachment_is_refused_by_its_field_and_nothing_is_left(
        self, agencies, full_disk
    ):
        draft = complete_draft(agencies["sender"])
        before = every_stored_name()
        full_disk.room = 0
        with pytest.raises(ReferralRefused, match="full or cannot be written"):
            attachment_add(draft=draft, upload=upload("risk.pdf"),
                           user=agencies["sender"])  # fmt: skip
        assert not ReferralAttachment.objects.exists()
        assert every_stored_name() == before
        assert not PendingObject.objects.exists()


TMPFS = Path("/tmp/h18s-full")  # noqa: S108  (a test's own mount point)


@pytest.fixture
def tiny_tmpfs(settings):
    """A real 64 KB file system, filled up: needs root to mount."""
    TMPFS.mkdir(exist_ok=True)
    mounted = subprocess.run(  # noqa: S603
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(TMPFS)],  # noqa: S607
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        filler = TMPFS / "filler"
        with filler.open("wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError as error:
                assert error.errno == errno.ENOSPC
        storage = FileSystemStorage(location=TMPFS)
        with mock.patch.object(SharedFile._meta.get_field("file"), "storage", storage):
            yield storage
    finally:
        subprocess.run(["umount", str(TMPFS)], check=False)  # noqa: S603, S607


@pytest.mark.django_db
def test_a_real_full_disk_leaves_no_zero_byte_file(agencies, tiny_tmpfs):
    with pytest.raises(StorageUnavailable, match="full or cannot be written"):
        shared(agencies["sender"], [agencies["b"]])
    assert set(stored_names(tiny_tmpfs, "shared")) == set()
    assert not SharedFile.objects.exists()
    assert not PendingObject.objects.exists()


@pytest.mark.django_db
class TestMissingFile:
    def test_a_shared_file_gone_from_storage_gets_a_plain_page(self, agencies):
        item = shared(agencies["sender"], [agencies["b"]]).files.get()
        files_storage().delete(item.file.name)
        client = verified_client_for(agencies["b_staff"])
        response = client.get(item.get_download_url())
        assert response.status_code == 410
        text = response.content.decode()
        assert "This file is no longer available" in text
        assert "Ask Agency A to send it again" in text
        event = AuditEvent.objects.filter(action="document.download_failed").get()
        assert event.outcome == Outcome.FAILURE
        assert not FileDownload.objects.exists()  # not counted as opened

    def test_a_referral_attachment_gone_from_storage_gets_a_plain_page(self, agencies):
        from tests.factories.referrals import submitted_referral

        author = agencies["sender"]
        referral = submitted_referral(author)
        item = ReferralAttachment.objects.create(
            referral=referral, file=ContentFile(PDF, name="upload"),
            original_name="risk.pdf", content_type="application/pdf",
            size=len(PDF), sha256="0" * 64, uploaded_by=author,
        )  # fmt: skip
        item.file.storage.delete(item.file.name)
        client = verified_client_for(author)
        url = reverse("referrals:attachment", args=[referral.reference, item.pk])
        response = client.get(url)
        assert response.status_code == 410
        assert "This file is no longer available" in response.content.decode()
        assert AuditEvent.objects.filter(
            action="referral.attachment_download_failed", outcome=Outcome.FAILURE
        ).exists()
