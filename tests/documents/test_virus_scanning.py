"""Sharing with ClamAV switched on: EICAR is refused and never stored, a clean
file is released, and an unreachable scanner refuses the upload."""

import pytest

from accounts.models import Role
from audit.models import AuditEvent
from documents.models import ScanStatus, Share, SharedFile
from documents.services import FilesRefused
from tests.documents.clamd import EICAR_REPORTED_SIGNATURE, eicar_bytes
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import shared, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    a, b = OrganisationFactory(), OrganisationFactory()
    return UserFactory(organisation=a, roles=[Role.REFERRER]), b


def test_eicar_is_refused_and_nothing_is_stored(clamav, people):
    sender, b = people
    with pytest.raises(FilesRefused) as refused:
        shared(sender, [b], files=[upload("notes.txt", eicar_bytes())])
    assert refused.value.problems == ["notes.txt contains a virus and was not shared"]
    assert not Share.objects.exists() and not SharedFile.objects.exists()
    event = AuditEvent.objects.get(action="document.infected_refused")
    assert event.detail["signature"] == EICAR_REPORTED_SIGNATURE
    assert event.outcome == "denied"


def test_a_clean_file_is_released_marked_as_scanned(clamav, people):
    sender, b = people
    item = shared(sender, [b], files=[upload("notes.txt", b"All well.\n")]).files.get()
    assert item.scan_status == ScanStatus.CLEAN


def test_without_a_scanner_files_are_marked_not_scanned(people):
    sender, b = people
    item = shared(sender, [b]).files.get()
    assert item.scan_status == ScanStatus.NOT_SCANNED


def test_an_unreachable_scanner_refuses_the_upload(settings, people):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CLAMAV_ADDRESS = f"127.0.0.1:{port}"  # nothing listens here
    sender, b = people
    with pytest.raises(FilesRefused) as refused:
        shared(sender, [b], files=[upload("notes.txt", b"All well.\n")])
    assert "could not be checked for viruses just now" in refused.value.problems[0]
    assert not SharedFile.objects.exists()
    assert AuditEvent.objects.filter(action="document.scan_unavailable").exists()
