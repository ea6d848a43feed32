"""Cached pages are dropped on every server once the data under them changes."""

import pytest
from django.core.cache import cache

from portal import freshness
from tests.factories import OrganisationFactory

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
