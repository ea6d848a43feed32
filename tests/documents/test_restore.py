"""After a restore: verify_restore checks the copy (rows, audit chain, every
stored file and its hash) and after_restore closes what an older dump
reopens (backup codes, authenticator codes, sessions)."""

from io import StringIO

import pytest
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from accounts.models import BackupCode, BackupCodeDevice, CodeCheck, Role
from accounts.services import totp_check
from audit.models import AuditEvent, Outcome
from audit.services import audit_record
from tests.conftest import (
    append_only_triggers_suspended,
    current_code,
    verified_client_for,
)
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.documents import PDF, files_storage, shared

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    a, b = OrganisationFactory(name="Agency A"), OrganisationFactory(name="Agency B")
    sender = UserFactory(organisation=a, roles=[Role.REFERRER])
    return shared(sender, [b]).files.get()


def verify(*args) -> str:
    out = StringIO()
    call_command("verify_restore", *args, stdout=out)
    return out.getvalue()


class TestVerifyRestore:
    def test_a_clean_copy_checks_out(self, item):
        out = verify()
        assert "documents_sharedfile: 1" in out
        assert "Audit chain intact" in out
        assert "Every stored file a row refers to is present." in out
        assert "The restored copy checks out." in out
        event = AuditEvent.objects.filter(action="restore.verified").latest("pk")
        assert event.outcome == Outcome.SUCCESS

    def test_a_missing_file_is_named_and_fails(self, item):
        files_storage().delete(item.file.name)
        with pytest.raises(CommandError) as caught:
            verify()
        assert f"Stored file missing: shared_file {item.pk}" in str(caught.value)
        event = AuditEvent.objects.filter(action="restore.verified").latest("pk")
        assert event.outcome == Outcome.FAILURE
        assert event.detail["missing_files"] == 1

    def test_a_changed_file_fails_unless_hashes_are_skipped(self, item):
        storage = files_storage()
        storage.delete(item.file.name)
        storage.save(item.file.name, ContentFile(PDF + b"\n% changed"))
        with pytest.raises(CommandError, match="Stored file hash differs"):
            verify()
        assert "checks out" in verify("--skip-hashes")

    def test_a_tampered_audit_log_fails(self):
        # No shared file here: on PostgreSQL the triggers cannot be switched
        # off while the share's deferred foreign key checks are pending.
        events = [audit_record(action=f"test.{n}") for n in range(3)]
        with append_only_triggers_suspended():
            AuditEvent.objects.filter(pk=events[1].pk).delete()
        with pytest.raises(CommandError, match="Audit log: "):
            verify()


class TestAfterRestore:
    def test_refuses_without_confirmation(self):
        with pytest.raises(CommandError, match="--yes"):
            call_command("after_restore")

    def test_backup_codes_sessions_and_used_codes_stop_working(self):
        person = UserFactory(roles=[Role.REFERRER])
        device = TOTPDeviceFactory(user=person)
        # A code shown before the restore: the dump does not know it was used.
        code = current_code(device)
        backup = BackupCodeDevice.objects.create(user=person, name="backup")
        BackupCode.objects.create(device=backup, code_hash=make_password("abcd2345ef"))
        client = verified_client_for(person)
        assert client.get(reverse("accounts:account")).status_code == 200

        call_command("after_restore", "--yes", stdout=StringIO())

        assert client.get(reverse("accounts:account")).status_code == 302  # signed out
        assert backup.check_token("abcd2345ef") is not CodeCheck.VERIFIED
        device.refresh_from_db()
        assert totp_check(device=device, token=code) is not CodeCheck.VERIFIED
        event = AuditEvent.objects.get(action="auth.after_restore")
        assert event.detail["backup_codes_spent"] == 1

    def test_reset_removes_every_second_factor(self):
        person = UserFactory(roles=[Role.REFERRER])
        TOTPDeviceFactory(user=person)
        call_command("after_restore", "--yes", "--reset-authenticators",
                     stdout=StringIO())  # fmt: skip
        assert not person.totpdevice_set.exists()
        client = Client()
        client.force_login(person, backend="accounts.backends.PartnerBackend")
        # Sent to set up a second factor again.
        response = client.get(reverse("accounts:account"))
        assert response.status_code == 302
