"""The sharing service: who receives a share, refusals, double submission,
faults between storage and database, expiry, recall and the purge (files no
row refers to are swept: tests/documents/test_stored.py)."""

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from documents.models import FileDownload, Share, SharedFile
from documents.services import (
    FilesRefused,
    ShareRefused,
    file_download_record,
    share_create,
    share_expiry_shorten,
    share_recall,
    shared_files_purge,
)
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import PDF, files_storage, office, shared, upload
from tests.factories.meetings import accepted, meeting, on_agenda
from tests.factories.referrals import share as referral_share
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def agencies():
    a, b, c = (OrganisationFactory(name=f"Agency {x}") for x in "ABC")
    return {
        "a": a,
        "b": b,
        "c": c,
        "sender": UserFactory(organisation=a, roles=[Role.REFERRER]),
        "b_staff": UserFactory(organisation=b, roles=[Role.REFERRER]),
        "c_staff": UserFactory(organisation=c, roles=[Role.REFERRER]),
    }


def _stored_names():
    storage = files_storage()
    names = []

    def walk(folder):
        try:
            dirs, files = storage.listdir(folder)
        except FileNotFoundError:
            return
        names.extend(f"{folder}/{f}" for f in files)
        for d in dirs:
            walk(f"{folder}/{d}")

    walk("shared")
    return set(names)


class TestShareCreate:
    def test_files_are_stored_under_server_names_and_recipients_told(
        self, agencies, django_capture_on_commit_callbacks
    ):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            share = shared(
                agencies["sender"],
                [agencies["b"]],
                files=[
                    upload("../../Risk assessment.pdf"),
                    upload("plan.docx", office()),
                ],
                note="For Thursday's meeting.",
            )
        files = list(share.files.order_by("display_name"))
        assert [f.display_name for f in files] == ["Risk assessment.pdf", "plan.docx"]
        for item in files:
            assert item.file.name.startswith("shared/")
            assert "Risk" not in item.file.name and "." not in item.file.name
            assert files_storage().exists(item.file.name)
        assert files[0].sha256 == __import__("hashlib").sha256(PDF).hexdigest()
        assert [r.organisation for r in share.recipients.all()] == [agencies["b"]]
        # One email to B's staff, with neither the file nor its name in it.
        assert [m.to for m in mail.outbox] == [[agencies["b_staff"].email]]
        body = mail.outbox[0].body
        assert "Agency A has shared 2 files with Agency B" in body
        assert "Risk assessment" not in body and "Thursday" not in body
        assert AuditEvent.objects.filter(action="document.shared").count() == 1

    def test_expiry_defaults_to_30_days(self, agencies):
        share = shared(agencies["sender"], [agencies["b"]])
        assert share.expires_at - share.created_at == timedelta(days=30)

    def test_expiry_beyond_90_days_is_refused(self, agencies):
        with pytest.raises(ShareRefused, match="no more than 90 days"):
            shared(
                agencies["sender"],
                [agencies["b"]],
                expires_at=timezone.now() + timedelta(days=91),
            )
        assert not Share.objects.exists()

    def test_sharing_only_with_your_own_organisation_is_refused(self, agencies):
        with pytest.raises(ShareRefused, match="Nobody else would receive"):
            shared(agencies["sender"], [agencies["a"]])

    def test_an_inactive_organisation_cannot_receive(self, agencies):
        agencies["c"].active = False
        agencies["c"].save()
        with pytest.raises(ShareRefused, match="no longer takes part"):
            shared(agencies["sender"], [agencies["b"], agencies["c"]])

    def test_every_bad_file_is_reported_and_nothing_is_stored(self, agencies):
        before = _stored_names()
        with pytest.raises(FilesRefused) as refused:
            shared(
                agencies["sender"],
                [agencies["b"]],
                files=[
                    upload("fine.pdf"),
                    upload("virus.pdf", b"MZ\x90\x00" + b"\x00" * 100),
                    upload("empty.txt", b""),
                ],
            )
        assert refused.value.problems == [
            "virus.pdf is not really a PDF file. Check the file, or save it again "
            "in the right format",
            "empty.txt is empty",
        ]
        assert _stored_names() == before
        assert not Share.objects.exists()

    def test_the_same_submission_twice_makes_one_share(self, agencies):
        key = uuid.uuid4()
        first = shared(agencies["sender"], [agencies["b"]], submission_key=key)
        again, created = share_create(
            user=agencies["sender"],
            uploads=[upload()],
            organisations=[agencies["b"]],
            submission_key=key,
        )
        assert again == first and not created
        assert Share.objects.count() == 1
        assert SharedFile.objects.count() == 1

    def test_a_referral_share_goes_to_everyone_who_can_see_the_referral(self, agencies):
        referral = submitted_referral(agencies["sender"])
        referral_share(referral, agencies["b"])
        share = shared(agencies["sender"], [], referral=referral)
        assert {r.organisation for r in share.recipients.all()} == {agencies["b"]}
        # C cannot see the referral, so cannot share against it.
        with pytest.raises(ShareRefused, match="Choose a referral you can see"):
            share_create(
                user=agencies["c_staff"], uploads=[upload()], referral=referral
            )

    def test_a_meeting_share_goes_to_every_invited_agency(self, agencies):
        coordinator = UserFactory(organisation=agencies["c"], roles=[Role.COORDINATOR])
        referral = accepted(submitted_referral(agencies["sender"]), coordinator)
        upcoming = meeting(coordinator)
        on_agenda(upcoming, referral, [agencies["b"]], coordinator)
        share, _ = share_create(user=coordinator, uploads=[upload()], meeting=upcoming)
        assert {r.organisation for r in share.recipients.all()} == {
            agencies["a"],
            agencies["b"],
        }


class TestFaults:
    def test_a_failure_after_storing_leaves_no_object_and_no_row(self, agencies):
        before = _stored_names()
        with (
            mock.patch(
                "documents.services.audit_record", side_effect=RuntimeError("db down")
            ),
            pytest.raises(RuntimeError),
        ):
            shared(
                agencies["sender"],
                [agencies["b"]],
                files=[upload("one.pdf"), upload("two.pdf")],
            )
        assert _stored_names() == before
        assert not Share.objects.exists()
        assert not SharedFile.objects.exists()

    def test_a_failure_writing_the_second_file_removes_the_first(self, agencies):
        before = _stored_names()
        storage = files_storage()
        real_save = storage.save
        calls = []

        def flaky_save(name, content, max_length=None):
            calls.append(name)
            if len(calls) == 2:
                raise OSError("disk full")
            return real_save(name, content, max_length=max_length)

        with (
            mock.patch.object(storage, "save", side_effect=flaky_save),
            pytest.raises(OSError),
        ):
            shared(
                agencies["sender"],
                [agencies["b"]],
                files=[upload("one.pdf"), upload("two.pdf")],
            )
        assert len(calls) == 2
        assert _stored_names() == before
        assert not SharedFile.objects.exists()


class TestExpiry:
    def test_expiry_can_be_brought_forward(self, agencies):
        share = shared(agencies["sender"], [agencies["b"]])
        sooner = timezone.now() + timedelta(days=3)
        share_expiry_shorten(share=share, user=agencies["sender"], expires_at=sooner)
        share.refresh_from_db()
        assert share.expires_at == sooner

    def test_expiry_cannot_be_extended(self, agencies):
        share = shared(agencies["sender"], [agencies["b"]])
        later = share.expires_at + timedelta(days=1)
        with pytest.raises(ShareRefused, match="never extended"):
            share_expiry_shorten(share=share, user=agencies["sender"], expires_at=later)
        share.refresh_from_db()
        assert share.expires_at < later

    def test_a_recipient_cannot_change_the_expiry(self, agencies):
        share = shared(agencies["sender"], [agencies["b"]])
        with pytest.raises(ShareRefused, match="Only the sending organisation"):
            share_expiry_shorten(
                share=share,
                user=agencies["b_staff"],
                expires_at=timezone.now() + timedelta(days=1),
            )

    def test_expired_files_are_purged_and_their_history_kept(self, agencies):
        share = shared(agencies["sender"], [agencies["b"]])
        item = share.files.get()
        file_download_record(item=item, user=agencies["b_staff"])
        assert shared_files_purge(now=share.expires_at - timedelta(seconds=1)) == 0
        assert shared_files_purge(now=share.expires_at + timedelta(seconds=1)) == 1
        item.refresh_from_db()
        assert item.purged_at is not None
        assert not files_storage().exists(item.file.name)
        assert FileDownload.objects.filter(file=item).count() == 1


class TestRecall:
    def test_recall_deletes_the_object_after_commit_and_keeps_the_downloads(
        self, agencies, django_capture_on_commit_callbacks
    ):
        share = shared(agencies["sender"], [agencies["b"]])
        item = share.files.get()
        file_download_record(item=item, user=agencies["b_staff"])
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            share_recall(share=share, user=agencies["sender"], reason="Sent in error")
        # Not yet committed: the object is still there.
        assert files_storage().exists(item.file.name)
        for callback in callbacks:
            callback()
        assert not files_storage().exists(item.file.name)
        share.refresh_from_db()
        assert share.state == "Recalled"
        assert share.recall_reason == "Sent in error"
        assert FileDownload.objects.filter(file=item).count() == 1
        assert AuditEvent.objects.filter(action="document.downloaded").count() == 1
        assert AuditEvent.objects.filter(action="document.recalled").count() == 1

    def test_only_the_sender_or_a_coordinator_can_recall(self, agencies):
        share = shared(agencies["sender"], [agencies["b"]])
        with pytest.raises(ShareRefused):
            share_recall(share=share, user=agencies["b_staff"], reason="no")
        coordinator = UserFactory(organisation=agencies["c"], roles=[Role.COORDINATOR])
        share_recall(share=share, user=coordinator, reason="Wrong case")
        share.refresh_from_db()
        assert share.recalled_by == coordinator


class TestOnlyParties:
    """Files go only to parties to the ISA in force that acknowledged it,
    whatever the form offered (docs/features.md, "Agreements")."""

    def test_the_form_offers_only_parties(self, agencies):
        outsider = OrganisationFactory(name="Outsider agency", party=False)
        page = verified_client_for(agencies["sender"]).get(reverse("documents:new"))
        html = page.content.decode()
        assert "Agency B" in html
        assert outsider.name not in html

    def test_the_service_refuses_an_organisation_outside_the_isa(self, agencies):
        outsider = OrganisationFactory(name="Outsider agency", party=False)
        with pytest.raises(ShareRefused, match="Outsider agency cannot be sent files"):
            shared(agencies["sender"], [agencies["b"], outsider])
        assert not Share.objects.exists()
