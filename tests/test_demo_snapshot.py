"""The demo put back for a later module is what seeding made (tests/demo_snapshot.py).

A small stand-in seed keeps this quick: it adds rows, changes one the
migrations made, records an audit event and stores a file, as seed_demo does.
"""

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from wagtail.models import Site

from audit.services import audit_record
from tests.demo_snapshot import _read, demo_loaded
from tests.factories import UserFactory
from tests.shared_setup import rolled_back_after_module

# Each test's own transaction holds the two "modules" (savepoints here).
pytestmark = pytest.mark.django_db

FILE_NAME = "demo-snapshot-test/leaflet.txt"


def _seed() -> str:
    UserFactory(username="snapshot.person")
    Site.objects.update(site_name="Changed by the seed")
    audit_record(action="test.snapshot")
    default_storage.save(FILE_NAME, ContentFile(b"what the seed stored"))
    return "seeded\n"


def _must_not_seed() -> str:
    raise AssertionError("seeded again instead of putting the snapshot back")


def test_the_rows_and_files_put_back_are_those_the_seed_made(
    django_db_setup, django_db_blocker
):
    kept: dict = {}
    media = settings.MEDIA_ROOT
    with rolled_back_after_module(django_db_blocker):
        assert demo_loaded(connection, media, _seed, kept, "test") == "seeded\n"
        seeded = _read(connection)
    default_storage.delete(FILE_NAME)

    with rolled_back_after_module(django_db_blocker):
        assert not Site.objects.filter(site_name="Changed by the seed").exists()
        output = demo_loaded(connection, media, _must_not_seed, kept, "test")
        assert output == "seeded\n"
        assert _read(connection) == seeded
        assert Site.objects.get().site_name == "Changed by the seed"
        with default_storage.open(FILE_NAME) as stored:
            assert stored.read() == b"what the seed stored"
        # A row made after putting back gets a new id, not a kept one's.
        assert UserFactory().pk > max(seeded["accounts_user"].rows)
    default_storage.delete(FILE_NAME)


def test_a_database_unlike_the_seeds_starting_point_is_seeded_again(
    django_db_setup, django_db_blocker
):
    kept: dict = {}
    media = settings.MEDIA_ROOT
    with rolled_back_after_module(django_db_blocker):
        demo_loaded(connection, media, _seed, kept, "test")
    with rolled_back_after_module(django_db_blocker):
        UserFactory(username="someone.else")
        seeds = []
        demo_loaded(
            connection, media, lambda: seeds.append(1) or "again\n", kept, "test"
        )
        assert seeds == [1]
    default_storage.delete(FILE_NAME)
