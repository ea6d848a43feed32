"""Fixtures shared by the whole suite: people, devices and signed-in clients."""

import functools
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management.commands import flush
from django.db import connections
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from tests.demo_snapshot import demo_loaded, json_columns, rows_insert
from tests.documents.clamd import require_clamav, start_clamd
from tests.factories import TEST_PASSWORD, TOTPDeviceFactory, UserFactory


def current_code(device, offset: int = 0) -> str:
    """The device's code now (or ``offset`` steps away), zero-padded as typed."""
    generator = TOTP(
        device.bin_key, device.step, device.t0, device.digits, device.drift
    )
    generator.time = time.time() + offset * device.step
    return f"{generator.token():0{device.digits}d}"


# The `slow` marker (pytest.ini): what `make test-fast` leaves out. Browser
# tests and modules that load the demo with its meeting packs are marked here;
# tests that render PDFs are marked where they are written, and the fixture
# below fails one that renders a PDF without the mark.
SLOW_FIXTURES = {"demo_seeded_with_packs"}


# Fixture scopes whose setup, such as loading the demo, serves many tests.
SHARED_SCOPES = {"package", "module", "class"}


def _uses_shared_setup(item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        definitions[-1].scope in SHARED_SCOPES
        for definitions in info.name2fixturedefs.values()
    )


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("browser") or SLOW_FIXTURES.intersection(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.slow)
        # Under pytest-xdist with --dist loadgroup (make test), a module whose
        # tests share a module-wide setup runs on one process, which sets it up
        # once; the other tests are shared out one by one.
        if _uses_shared_setup(item):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(scope="session")
def _pdf_renders():
    """How many PDFs WeasyPrint has written in this process so far."""
    from weasyprint import HTML

    renders = {"count": 0}
    original = HTML.write_pdf

    def write_pdf(self, *args, **kwargs):
        renders["count"] += 1
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HTML, "write_pdf", write_pdf)
        yield renders


@pytest.fixture(autouse=True)
def _pdf_rendering_is_marked_slow(request, _pdf_renders):
    """Fail a test that renders a PDF but is not marked slow, so that
    `make test-fast` stays free of WeasyPrint's seconds per document.

    Module-wide fixtures (the demo) set up before this count, and are left out.
    """
    before = _pdf_renders["count"]
    yield
    rendered = _pdf_renders["count"] - before
    if rendered and not request.node.get_closest_marker("slow"):
        pytest.fail(
            f"{request.node.nodeid} rendered {rendered} PDF(s) with WeasyPrint: "
            "mark it @pytest.mark.slow",
            pytrace=False,
        )


@pytest.fixture
def password():
    return TEST_PASSWORD


@pytest.fixture
def user(db):
    """A referrer at a partner agency, with a confirmed authenticator."""
    person = UserFactory(roles=["Referrers"])
    TOTPDeviceFactory(user=person)
    return person


@pytest.fixture
def device(user):
    return user.totpdevice_set.get()


def sign_in_with_password(client: Client, user) -> None:
    client.force_login(user, backend="accounts.backends.PartnerBackend")


def verify_session(client: Client, user) -> None:
    """Mark the client's session as having passed the second factor."""
    device = user.totpdevice_set.filter(confirmed=True).first()
    if device is None:
        device = TOTPDeviceFactory(user=user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def verified_client_for(person) -> Client:
    """A client signed in as ``person`` with password and second factor."""
    client = Client(raise_request_exception=False)
    sign_in_with_password(client, person)
    verify_session(client, person)
    return client


@pytest.fixture
def password_client(user):
    """Signed in with a password only: the second factor is still to come."""
    client = Client()
    sign_in_with_password(client, user)
    return client


@pytest.fixture
def verified_client(user):
    """Signed in with password and second factor."""
    client = Client()
    sign_in_with_password(client, user)
    verify_session(client, user)
    return client


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    from portal import freshness

    cache.clear()
    yield
    cache.clear()
    # A download whose streamed body a test did not read to its end never
    # sends request_finished, which would leave its tokens read for the next
    # test (test_freshness.py::test_a_lost_token_is_made_afresh after
    # tests/documents failed so).
    freshness.request_finished()


@pytest.fixture(autouse=True)
def _audit_checkpoints_per_test(settings, tmp_path):
    """Each test's own checkpoint file: the database is rolled back after each
    test, and checkpoints left by one would not match the next one's log."""
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "audit-checkpoints.jsonl"
    settings.AUDIT_CHECKPOINT_STORAGE = None
    yield
    # Pending rows a test made unchainable are its own: the next test's
    # chainer starts without reading past any.
    from audit import services

    services._unchainable.clear()


@contextmanager
def append_only_triggers_suspended(alias="default"):
    """Let tests empty or tamper with append-only tables (see audit.append_only)."""
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname LIKE '%%_append_only_%%'"
            )
            tables = [row[0] for row in cursor.fetchall()]
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND name LIKE '%%_append_only_%%'"
            )
            triggers = cursor.fetchall()
            for name, _ in triggers:
                cursor.execute(f"DROP TRIGGER {name}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in tables:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            else:
                for _, sql in triggers:
                    cursor.execute(sql)


def _sequences_past_restored_rows(connection) -> None:
    """Move every id sequence past the highest id in its table.

    ``manage.py flush`` restarts PostgreSQL's sequences at 1 (TransactionTestCase's
    flush does not), and the snapshot then puts back rows with their own ids:
    without this the next page, collection or group made would be given id 1
    again and fail as a duplicate key. One round trip for every sequence.
    """
    from django.apps import apps
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    if statements:
        with connection.cursor() as cursor:
            cursor.execute("\n".join(statements))


def _emptied_row_by_row(connection) -> None:
    """Empty every table with DELETE rather than Django's one TRUNCATE.

    On PostgreSQL a TRUNCATE of the 128 tables gives each table and index a
    new file: about 3.4 s a flush on this machine, against 0.1 s for deleting
    the few rows a test made. Foreign keys are checked at commit, so the
    order does not matter.
    """
    tables = connection.introspection.django_table_names(
        only_existing=True, include_views=False
    )
    with connection.cursor() as cursor:
        cursor.execute(
            ";\n".join(f"DELETE FROM {connection.ops.quote_name(t)}" for t in tables)  # noqa: S608
        )


class _TableSnapshot:
    """The rows the migrations left in the test database, kept as raw rows.

    Putting them back after a flush as one multi-row insert per table takes
    about 0.04 s; Django's own route (serialize, then save each of the 640
    objects through the ORM) took about 1 s, once per transactional test.
    Foreign keys are deferred until commit on both databases, so the tables
    can go back in any order.
    """

    def __init__(self, connection):
        self.tables = []
        names = connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        with connection.cursor() as cursor:
            for table in sorted(names):
                quoted = connection.ops.quote_name(table)
                cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608
                rows = cursor.fetchall()
                if not rows:
                    continue
                columns = [column[0] for column in cursor.description]
                json_at = json_columns(connection, cursor.description)
                self.tables.append((quoted, columns, json_at, rows))

    def restore(self, connection) -> None:
        with connection.cursor() as cursor:
            for quoted, columns, json_at, rows in self.tables:
                rows_insert(cursor, quoted, columns, json_at, rows)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Keep what the migrations created (Wagtail's pages, role groups) across flushes.

    Transactional tests (live server, concurrency) end with a flush that empties
    every table, including the append-only audit log and the data migrations'
    rows. The flush below suspends the audit triggers and puts that data back,
    so later tests, and later runs with --reuse-db, find the home page.
    """
    from django.db import connection, transaction
    from wagtail.models import Site

    with django_db_blocker.unblock():
        if not Site.objects.exists():
            pytest.exit(
                "The reused test database has lost its migration data; "
                "run once with --create-db.",
                returncode=3,
            )
        snapshot = _TableSnapshot(connection)

    # Our flush restores the data itself, so Django's serialized_rollback would
    # only insert it twice: make that a no-op.
    for alias in connections:
        if hasattr(connections[alias], "_test_serialized_contents"):
            del connections[alias]._test_serialized_contents

    original = flush.Command.handle

    def handle(self, **options):
        alias = options.get("database", "default")
        # The snapshot already holds what post_migrate handlers would create.
        options["inhibit_post_migrate"] = True
        # One transaction: on SQLite each trigger dropped and made again would
        # otherwise be its own commit, which was most of a flush's time.
        with transaction.atomic(using=alias), append_only_triggers_suspended(alias):
            if connections[alias].vendor == "postgresql":
                result = _emptied_row_by_row(connections[alias])
            else:
                result = original(self, **options)
            snapshot.restore(connections[alias])
            _sequences_past_restored_rows(connections[alias])
            if connections[alias].vendor == "postgresql":
                # Check the deferred foreign keys now: PostgreSQL refuses to
                # switch the audit triggers back on while checks are pending.
                with connections[alias].cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        return result

    flush.Command.handle = handle
    yield
    flush.Command.handle = original


@pytest.fixture(scope="session", autouse=True)
def _empty_test_media():
    from django.conf import settings

    yield
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)


# A real clamd with a test signature (tests/documents/clamd.py), started once
# for the run by the first test that asks for it.
@pytest.fixture(scope="session")
def clamd_address(tmp_path_factory):
    """The address, as 127.0.0.1:PORT, of a clamd started for this test run.

    Skips when ClamAV is not installed, and fails instead under CI.
    """
    require_clamav()
    host, port, stop = start_clamd(tmp_path_factory.mktemp("clamd"))
    try:
        yield f"{host}:{port}"
    finally:
        stop()


@pytest.fixture
def clamav(settings, clamd_address):
    """Scanning switched on, against the test clamd."""
    settings.CLAMAV_ADDRESS = clamd_address
    return clamd_address


@functools.cache
def _demo_pdf(html: str) -> bytes:
    from portal.pdf import html_to_pdf

    return html_to_pdf(html)


# The demo as the first module in this process seeded it, by whether its
# packs were built: later modules put the same rows back (tests/demo_snapshot.py).
_DEMO_SNAPSHOTS: dict = {}


def _demo_for_module(django_db_blocker, *, run_on_commit: bool):
    """Load the demo partnership once for a test module, inside a transaction
    that is rolled back after it; yields what seed_demo printed.

    Each test still runs in a transaction of its own, nested in this one, so
    tests may change the demo without seeing each other's changes. The first
    module in a process runs seed_demo; later ones get the rows and files it
    made put back, which takes a fraction of a second (tests/demo_snapshot.py).
    """
    from io import StringIO

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import TestCase

    from tests.shared_setup import rolled_back_after_module

    def seed() -> str:
        out = StringIO()
        with pytest.MonkeyPatch.context() as patch:
            # The demo's shared files are the same few PDFs for every module:
            # WeasyPrint makes each once per test process.
            patch.setattr("documents.demo.html_to_pdf", _demo_pdf)
            if run_on_commit:
                # Meeting packs are built when the seed's transaction commits,
                # which the surrounding transaction would otherwise hold back.
                with TestCase.captureOnCommitCallbacks(execute=True):
                    call_command("seed_demo", stdout=out)
            else:
                call_command("seed_demo", stdout=out)
        return out.getvalue()

    with rolled_back_after_module(django_db_blocker):
        yield demo_loaded(
            connection,
            Path(settings.MEDIA_ROOT),
            seed,
            _DEMO_SNAPSHOTS,
            run_on_commit,
        )


@pytest.fixture(scope="module")
def demo_seeded(django_db_setup, django_db_blocker):
    """The demo partnership, loaded once for a test module."""
    yield from _demo_for_module(django_db_blocker, run_on_commit=False)


@pytest.fixture(scope="module")
def demo_seeded_with_packs(django_db_setup, django_db_blocker):
    """The demo partnership with its meeting packs built, once for a module."""
    yield from _demo_for_module(django_db_blocker, run_on_commit=True)


@contextmanager
def uncached_queries():
    """Capture the queries of what follows, with shared caches outdated first
    (portal.freshness), so a count covers the work behind them every time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal import freshness

    freshness.outdate()
    with CaptureQueriesContext(connection) as captured:
        yield captured
