"""Retention of shared-file records not disposed of with a case: after the
ISA's shared-file period, counted from sharing, an ended share's row goes with
its files' names, note, recipients and download records, leaving one
``ShareDisposal`` (counts, hash, period, version) per batch.

Time travel: the job is asked about a chosen day (``today``): the day before
and the day after the period ends, under the version in force then.
"""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.models import Role
from agreements.services import add_months
from audit.models import AuditEvent
from documents.audit_actions import DocumentAction
from documents.models import (
    FileDownload,
    Share,
    SharedFile,
    ShareDisposal,
    ShareRecipient,
)
from documents.services import file_download_record, share_recall
from files.stored import kind_for
from referrals.retention import (
    content_hash,
    legal_hold_place,
    legal_hold_remove,
    retention_apply,
    rows_snapshot,
)
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import retention_version
from tests.factories.documents import shared, upload
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db

BY = "test run"
NOTE = "About Philippa Sharedrow, 07700 900 555"


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """A share of one file from Housing to Police, downloaded once."""
    retention_version(shared_file_months=24)
    housing, police = (
        OrganisationFactory(name="Housing"),
        OrganisationFactory(name="Police"),
    )
    sender = UserFactory(organisation=housing, roles=[Role.REFERRER])
    reader = UserFactory(organisation=police, roles=[Role.REFERRER])
    with django_capture_on_commit_callbacks(execute=True):
        share = shared(
            sender, [police], files=[upload("Sharedrow notes.pdf")], note=NOTE
        )
    file_download_record(item=share.files.get(), user=reader)
    return {"share": share, "sender": sender, "reader": reader, "police": police}


def _due(share, months=24):
    return add_months(timezone.localdate(share.created_at), months)


class TestTimeTravel:
    def test_day_before_the_period_ends_the_record_is_kept(self, world):
        share = world["share"]
        result = retention_apply(authorised_by=BY, today=_due(share) - timedelta(1))
        assert [r.disposed for r in result.records if "shared" in r.kind] == [[]]
        assert Share.objects.filter(pk=share.pk).exists()
        assert not ShareDisposal.objects.exists()

    def test_day_after_row_names_note_recipients_and_downloads_are_gone(
        self, world, django_capture_on_commit_callbacks
    ):
        share = world["share"]
        item = share.files.get()
        stored_name = item.file.name
        storage = kind_for(SharedFile, "file").storage
        assert storage.exists(stored_name)
        with django_capture_on_commit_callbacks(execute=True):
            result = retention_apply(
                authorised_by=BY, today=_due(share) + timedelta(days=1)
            )
        records = next(r for r in result.records if r.kind == "shared-file records")
        assert records.disposed == [
            f"share {share.public_id} of {timezone.localdate(share.created_at)}"
        ]
        assert not Share.objects.filter(pk=share.pk).exists()
        assert not SharedFile.objects.filter(pk=item.pk).exists()
        assert not ShareRecipient.objects.filter(share_id=share.pk).exists()
        assert not FileDownload.objects.filter(file_id=item.pk).exists()
        assert not storage.exists(stored_name)
        disposal = ShareDisposal.objects.get()
        assert disposal.counts == {
            "file_downloads": 1,
            "shared_files": 1,
            "file_share_recipients": 1,
            "file_shares": 1,
            "stored_files": 1,
        }
        assert disposal.period_months == 24
        assert disposal.agreement_version == result.schedule.version_label
        assert disposal.shared_from == timezone.localdate(share.created_at)
        assert disposal.authorised_by == BY
        event = AuditEvent.objects.get(action=DocumentAction.RECORDS_DISPOSED)
        assert event.detail["content_hash"] == disposal.content_hash
        assert event.detail["count"] == 1
        assert "Sharedrow" not in str(event.detail)

    def test_the_hash_is_of_the_rows_destroyed(self, world):
        share = world["share"]
        files = list(SharedFile.objects.filter(share=share))
        expected = content_hash(
            [
                *rows_snapshot(FileDownload.objects.filter(file__in=files)),
                *rows_snapshot(files),
                *rows_snapshot(ShareRecipient.objects.filter(share=share)),
                *rows_snapshot([Share.objects.get(pk=share.pk)]),
            ]
        )
        retention_apply(authorised_by=BY, today=_due(share))
        assert ShareDisposal.objects.get().content_hash == expected

    def test_a_live_share_is_never_destroyed_under_its_recipients(self, world):
        retention_version(shared_file_months=1)
        police = world["police"]
        live = shared(
            world["sender"],
            [police],
            expires_at=timezone.now() + timedelta(days=60),
        )
        month_on = _due(live, 1) + timedelta(days=1)
        retention_apply(authorised_by=BY, today=month_on)
        assert Share.objects.filter(pk=live.pk).exists()
        # The first share, with its default 30 days, has ended by then.
        assert not Share.objects.filter(pk=world["share"].pk).exists()

    def test_a_recalled_share_goes_at_its_period_too(self, world):
        share = share_recall(share=world["share"], user=world["sender"], reason="x")
        retention_apply(authorised_by=BY, today=_due(share))
        assert not Share.objects.filter(pk=share.pk).exists()

    def test_a_new_version_with_a_shorter_period_applies_from_its_date(self, world):
        share = world["share"]
        retention_version(shared_file_months=12)
        retention_apply(authorised_by=BY, today=_due(share, 12) - timedelta(days=1))
        assert Share.objects.filter(pk=share.pk).exists()
        retention_apply(authorised_by=BY, today=_due(share, 12))
        assert not Share.objects.filter(pk=share.pk).exists()
        assert ShareDisposal.objects.get().period_months == 12

    def test_dry_run_destroys_nothing(self, world):
        share = world["share"]
        result = retention_apply(authorised_by=BY, dry_run=True, today=_due(share))
        assert any(r.disposed for r in result.records)
        assert Share.objects.filter(pk=share.pk).exists()
        assert not ShareDisposal.objects.exists()

    def test_the_command_reports_the_records(self, world):
        out = io.StringIO()
        call_command("apply_retention", "--dry-run", stdout=out)
        assert "Would dispose of 0 shared-file records (24 months after" in (
            out.getvalue()
        )


class TestLegalHold:
    def test_a_share_linked_to_a_held_case_is_kept_until_the_hold_ends(self, world):
        boss = coordinator()
        referral = accepted(submitted_referral(world["sender"]), boss)
        on_agenda(meeting(boss), referral, [world["police"]], boss)  # shares it
        linked = shared(world["sender"], [], referral=referral)
        hold = legal_hold_place(
            referral=referral, user=boss, reason="Inquest",
            review_date=timezone.localdate() + timedelta(days=90),
        )  # fmt: skip
        after = _due(linked) + timedelta(days=1)
        result = retention_apply(authorised_by=BY, today=after)
        records = next(r for r in result.records if r.kind == "shared-file records")
        assert len(records.held) == 1 and len(records.disposed) == 1
        assert Share.objects.filter(pk=linked.pk).exists()
        assert not Share.objects.filter(pk=world["share"].pk).exists()
        legal_hold_remove(hold=hold, user=boss, reason="Inquest closed")
        retention_apply(authorised_by=BY, today=after)
        assert not Share.objects.filter(pk=linked.pk).exists()
        # The case itself is open: only its share record went.
        referral.refresh_from_db()


class TestRecord:
    def test_disposal_records_cannot_be_changed(self, world):
        retention_apply(authorised_by=BY, today=_due(world["share"]))
        with pytest.raises(DatabaseError), transaction.atomic():
            ShareDisposal.objects.update(authorised_by="someone else")

    def test_the_retention_page_shows_what_goes_next_and_what_went(self, world):
        boss = coordinator()
        client = verified_client_for(boss)
        body = client.get("/referrals/retention/").content.decode()
        assert "Shared-file records" in body
        assert "No shared-file record is due" in body
        # Move the sharing back so it falls due in ten days.
        share = world["share"]
        Share.objects.filter(pk=share.pk).update(
            created_at=timezone.now() - timedelta(days=730 - 10),
            expires_at=timezone.now() - timedelta(days=600),
        )
        body = client.get("/referrals/retention/").content.decode()
        assert "Shares to be destroyed within 30 days" in body
        assert "Housing" in body
        assert "Sharedrow" not in body
        retention_apply(authorised_by=BY, today=timezone.localdate() + timedelta(20))
        body = client.get("/referrals/retention/").content.decode()
        assert ShareDisposal.objects.get().content_hash in body
        assert "Sharedrow" not in body
