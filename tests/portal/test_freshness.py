"""Cached pages are dropped on every server once the data under them changes."""

import pytest
from django.core.cache import cache

from accounts.models import Role
from documents.services import file_download_record
from portal import freshness
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import shared, upload

pytestmark = pytest.mark.django_db


def test_the_token_holds_until_portal_data_changes():
    first = freshness.token()
    assert freshness.token() == first
    OrganisationFactory()
    assert freshness.token() != first


def test_audit_events_do_not_outdate_the_cache():
    from audit.services import audit_record

    first = freshness.token()
    audit_record(action="read")
    assert freshness.token() == first


def test_the_token_changes_again_when_the_change_commits(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        freshness.outdate()
        during = freshness.token()
    assert freshness.token() != during  # read between change and commit: dropped


def test_a_lost_token_is_made_afresh():
    first = freshness.token()
    cache.clear()
    assert freshness.token() != first


def test_a_download_outdates_only_what_shows_new_files():
    sender, reader = (
        UserFactory(organisation=OrganisationFactory(), roles=[Role.REFERRER])
        for _ in range(2)
    )
    share = shared(sender, [reader.organisation], files=[upload("Notes.pdf")])
    portal, openings = freshness.token(), freshness.token(freshness.OPENINGS)
    file_download_record(item=share.files.get(), user=reader)
    assert freshness.token() == portal  # pages, lists and the ISA decision stay
    assert freshness.token(freshness.OPENINGS) != openings
