"""Cached pages are dropped on every server once the data under them changes."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.core.signals import request_started
from django.db import transaction
from wagtail.models import PageViewRestriction

from accounts.models import Role, role_group
from documents.services import file_download_record
from portal import freshness
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import shared, upload
from tests.factories.guidance import guidance

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


def test_rows_that_feed_no_page_are_deleted_in_one_statement(
    django_assert_num_queries,
):
    """The receivers are connected for the watched models only: one for every
    model made Django read each row of any delete first and signal it."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from notices.models import Notice, NoticeKind
    from referrals.models import Referral

    person = UserFactory()
    Notice.objects.bulk_create(
        Notice(
            recipient=person,
            kind=NoticeKind.values[0],
            title="N",
            link="/",
            event=f"e{n}",
        )
        for n in range(3)
    )
    with django_assert_num_queries(1):
        Notice.objects.filter(recipient=person).delete()
    assert not post_delete.has_listeners(Notice)
    for signal in (post_save, post_delete):
        assert signal.has_listeners(Referral)
    assert m2m_changed.has_listeners(person.groups.through)


def test_a_watched_delete_still_outdates_the_cache():
    organisation = OrganisationFactory(party=False)
    first = freshness.token()
    organisation.delete()
    assert freshness.token() != first


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


def _download_world():
    sender, reader = (
        UserFactory(organisation=OrganisationFactory(), roles=[Role.REFERRER])
        for _ in range(2)
    )
    share = shared(sender, [reader.organisation], files=[upload("Notes.pdf")])
    return share.files.get(), reader


def test_a_download_outdates_only_what_shows_new_files(
    django_capture_on_commit_callbacks,
):
    item, reader = _download_world()
    portal, openings = freshness.token(), freshness.token(freshness.OPENINGS)
    with django_capture_on_commit_callbacks(execute=True):
        file_download_record(item=item, user=reader)
    assert freshness.token() == portal  # pages, lists and the ISA decision stay
    assert freshness.token(freshness.OPENINGS) != openings


def test_a_download_tells_the_shared_cache_once_when_it_commits(
    django_capture_on_commit_callbacks, monkeypatch
):
    item, reader = _download_world()
    key = freshness.PREFIX + freshness.OPENINGS
    sets = []
    original = cache.set

    def counted(name, *args, **kwargs):
        if name == key:
            sets.append(name)
        return original(name, *args, **kwargs)

    monkeypatch.setattr(cache, "set", counted)
    freshness.request_started()
    try:
        before = freshness.token(freshness.OPENINGS)
        with django_capture_on_commit_callbacks(execute=True):
            file_download_record(item=item, user=reader)
            # Not committed: other servers cannot see the download yet, and
            # keep the token; this request stops using it at once.
            assert cache.get(key) == before
            assert freshness.token(freshness.OPENINGS) != before
            assert sets == []
        # Committed: replaced in the shared cache, in one round trip.
        assert sets == [key]
        assert cache.get(key) != before
        assert freshness.token(freshness.OPENINGS) == cache.get(key)
    finally:
        freshness.request_finished()


def test_a_download_rolled_back_tells_the_shared_cache_nothing(
    django_capture_on_commit_callbacks,
):
    item, reader = _download_world()
    openings = freshness.token(freshness.OPENINGS)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        file_download_record(item=item, user=reader)
        raise RuntimeError("the response failed")
    assert freshness.token(freshness.OPENINGS) == openings


def test_a_request_reads_each_token_once_and_sees_its_own_changes():
    key = freshness.PREFIX + freshness.PORTAL
    freshness.request_started()
    try:
        first = freshness.token()
        cache.set(key, "changed-by-another-server")
        assert freshness.token() == first  # as if the request ran a moment earlier
        freshness.outdate()  # a change made by this request
        assert freshness.token() == cache.get(key) != first
    finally:
        freshness.request_finished()
    cache.set(key, "changed-again")
    assert freshness.token() == "changed-again"  # outside a request: every read


def test_several_tokens_at_once_agree_with_reading_each():
    freshness.outdate(freshness.OPENINGS)
    portal, openings = freshness.tokens(freshness.PORTAL, freshness.OPENINGS)
    assert (portal, openings) == (
        freshness.token(),
        freshness.token(freshness.OPENINGS),
    )
    cache.clear()  # lost: made afresh, and kept for the next reader
    again = freshness.tokens(freshness.PORTAL, freshness.OPENINGS)
    assert again != (portal, openings)
    assert again == (freshness.token(), freshness.token(freshness.OPENINGS))


def test_several_tokens_in_a_request_are_read_once():
    freshness.request_started()
    try:
        first = freshness.tokens(freshness.PORTAL, freshness.OPENINGS)
        cache.set(freshness.PREFIX + freshness.OPENINGS, "changed-elsewhere")
        assert freshness.tokens(freshness.PORTAL, freshness.OPENINGS) == first
        assert freshness.token(freshness.OPENINGS) == first[1]
    finally:
        freshness.request_finished()


def test_every_request_starts_and_ends_with_no_tokens_read(client):
    seen = []

    def record(**kwargs):
        seen.append(freshness._read.get())

    freshness._read.set({freshness.PORTAL: "left-over"})
    request_started.connect(record)  # runs after the portal's own receiver
    try:
        client.get("/accounts/login/")
    finally:
        request_started.disconnect(record)
        after = freshness._read.get()
        freshness._read.set(None)  # leave no tokens for the next test
    assert seen == [{}]
    assert after is None


class TestWhoMaySeeWhat:
    """Changes to who may see a page or list outdate every cache at once,
    however the admin makes them (a save, a delete, a many-to-many change)."""

    def _outdates(self, change) -> bool:
        before = freshness.token()
        change()
        return freshness.token() != before

    def test_page_privacy_added_changed_and_removed(self):
        page = guidance(title="For coordinators")
        restriction = PageViewRestriction(
            page=page, restriction_type=PageViewRestriction.LOGIN
        )
        assert self._outdates(restriction.save)
        restriction.restriction_type = PageViewRestriction.GROUPS
        assert self._outdates(restriction.save)
        coordinators = role_group(Role.COORDINATOR)
        assert self._outdates(lambda: restriction.groups.add(coordinators))
        assert self._outdates(lambda: restriction.groups.remove(coordinators))
        assert self._outdates(restriction.delete)

    def test_group_membership_and_group_permissions(self):
        person = UserFactory(roles=[Role.REFERRER])
        editors = role_group(Role.EDITOR)
        assert self._outdates(lambda: person.groups.add(editors))
        assert self._outdates(lambda: editors.user_set.remove(person))
        access_admin = Permission.objects.get(codename="access_admin")
        assert self._outdates(lambda: editors.permissions.remove(access_admin))
        assert self._outdates(lambda: editors.permissions.add(access_admin))
        assert self._outdates(lambda: Group.objects.create(name="Board"))

    def test_moving_a_page_under_another(self):
        page, other = guidance(title="Moving"), guidance(title="Staying")
        assert self._outdates(lambda: page.move(other, pos="last-child"))
