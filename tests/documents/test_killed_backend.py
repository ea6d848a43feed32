"""A PostgreSQL backend killed while a share or an attachment is being saved,
mid-transaction and during the commit: after the sweeper, no file is left
without its row and no row without its file, and the audit chain holds.

PostgreSQL only (pg_terminate_backend from a second connection); run with
DATABASE_URL=postgres://... (docs/testing.md).
"""

import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError, connection, connections
from django.utils import timezone

from accounts.models import Role
from audit.services import audit_chain_verify
from documents.models import Share, SharedFile
from documents.services import share_create
from files.models import PendingObject
from files.stored import storage_sweep, stored_kinds, stored_names
from referrals.models import ReferralAttachment
from referrals.services import attachment_add
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import upload
from tests.factories.referrals import complete_draft

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def kill_this_backend() -> None:
    """Terminate the test's own server process from a second connection, as
    an operator, the OOM killer or a failover would."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


def killed_at_commit(number: int):
    """Kill the backend just before the n-th COMMIT is sent."""
    real_commit = connection.commit
    calls = []

    def commit():
        calls.append(1)
        if len(calls) == number:
            kill_this_backend()
        real_commit()

    return mock.patch.object(connection, "commit", side_effect=commit)


def stored() -> set[str]:
    names = set()
    for kind in stored_kinds():
        names |= set(stored_names(kind.storage, kind.prefix))
    return names


def assert_consistent_after_sweep(before: set[str]) -> None:
    connection.close()  # the killed one; the next query reconnects
    storage_sweep(now=timezone.now() + timedelta(days=2))
    assert stored() <= before | _referenced()
    for kind in stored_kinds():
        for row in kind.rows():
            assert kind.storage.exists(getattr(row, kind.field).name)
    assert not PendingObject.objects.exists()
    assert audit_chain_verify().intact


def _referenced() -> set[str]:
    names = set()
    for kind in stored_kinds():
        names |= set(kind.rows().values_list(kind.field, flat=True))
    return names


@pytest.fixture
def people():
    a, b = OrganisationFactory(name="Agency A"), OrganisationFactory(name="Agency B")
    return {"b": b, "sender": UserFactory(organisation=a, roles=[Role.REFERRER])}


def _share(people):
    return share_create(
        user=people["sender"], uploads=[upload("a.pdf"), upload("b.pdf")],
        organisations=[people["b"]], submission_key=uuid.uuid4(),
    )  # fmt: skip


class TestShare:
    def test_killed_mid_transaction(self, people):
        before = stored()
        from audit import services as audit_services

        real = audit_services.audit_record

        def record(**kwargs):
            kill_this_backend()
            return real(**kwargs)

        with mock.patch("documents.services.audit_record", side_effect=record), \
                pytest.raises(DatabaseError):  # fmt: skip
            _share(people)
        assert_consistent_after_sweep(before)
        assert not Share.objects.exists()
        assert not SharedFile.objects.exists()

    def test_killed_during_commit(self, people):
        before = stored()
        # Commits 1 and 2 are the two files' pending marks; 3 is the share.
        with killed_at_commit(3), pytest.raises(DatabaseError):
            _share(people)
        assert_consistent_after_sweep(before)
        assert not Share.objects.exists()

    def test_killed_while_writing_a_pending_mark(self, people):
        before = stored()
        with killed_at_commit(2), pytest.raises(DatabaseError):
            _share(people)
        assert_consistent_after_sweep(before)
        assert not Share.objects.exists()


class TestAttachment:
    def test_killed_during_commit(self, people):
        draft = complete_draft(people["sender"])
        before = stored()
        with killed_at_commit(2), pytest.raises(DatabaseError):
            attachment_add(draft=draft, upload=upload("r.pdf"), user=people["sender"])
        assert_consistent_after_sweep(before)
        assert not ReferralAttachment.objects.exists()
