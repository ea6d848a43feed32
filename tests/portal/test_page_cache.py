"""Reading pages are rendered once and shared by everyone who would see the
same page, each with their own name, session token and script nonce."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from wagtail.models import PageViewRestriction

from accounts.models import Role, User, role_group
from notices.models import Notice, NoticeKind
from portal import freshness, page_cache
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import acknowledge, agreement_tree, signatory_for
from tests.factories.guidance import guidance

pytestmark = pytest.mark.django_db


def _get(client, url):
    """The response, and whether it came from the shared cache (the page's
    templates were not rendered)."""
    response = client.get(url)
    return response, "base.html" not in {t.name for t in response.templates}


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.fixture
def guide():
    return guidance(title="Keeping papers safe")


@pytest.fixture
def readers():
    agency = OrganisationFactory(name="Northtown Housing")
    first = UserFactory(organisation=agency, roles=[Role.REFERRER],
                        first_name="Asha", last_name="Reader")  # fmt: skip
    second = UserFactory(organisation=agency, roles=[Role.REFERRER],
                         first_name="Ben", last_name="Later")  # fmt: skip
    return first, second


def test_the_second_reader_gets_the_kept_page_with_their_own_name(guide, readers):
    first, second = readers
    response, kept = _get(verified_client_for(first), guide.url)
    assert "Keeping papers safe" in response.text and not kept
    response, kept = _get(verified_client_for(second), guide.url)
    assert kept
    assert "Keeping papers safe" in response.text
    assert "Ben Later" in response.text and "Asha Reader" not in response.text


def test_the_second_reader_gets_their_own_unread_count(guide, readers):
    """The header's "What's new (N)" is the reader's own, not the count of
    whoever's page was kept."""
    first, second = readers
    for n in range(3):
        Notice.objects.create(recipient=first, kind=NoticeKind.SECURITY,
                              title="Sign-in changed", link="/account/",
                              event=f"e{n}")  # fmt: skip
    response, kept = _get(verified_client_for(first), guide.url)
    assert "What's new (3)" in response.text and not kept
    response, kept = _get(verified_client_for(second), guide.url)
    assert kept
    assert "What's new (0)" in response.text and "What's new (3)" not in response.text


def test_each_reader_signs_out_with_their_own_token(guide, readers):
    first, second = readers
    verified_client_for(first).get(guide.url)
    client = verified_client_for(second)
    html = client.get(guide.url).text
    assert page_cache.CSRF not in html
    client.enforce_csrf_checks = True
    client.handler.enforce_csrf_checks = True
    response = client.post("/sign-out/", {"csrfmiddlewaretoken": _csrf(html)})
    assert response.status_code == 302
    assert client.get(guide.url).status_code == 302  # signed out: to sign-in


def test_each_response_carries_its_own_script_nonce(guide, readers):
    first, second = readers
    verified_client_for(first).get(guide.url)
    response = verified_client_for(second).get(guide.url)
    nonce = re.search(r'<script nonce="([^"]+)"', response.text).group(1)
    assert nonce != page_cache.NONCE
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


def test_a_published_change_shows_at_once(guide, readers):
    first, second = readers
    verified_client_for(first).get(guide.url)
    guide.title = "Keeping papers safe and sound"
    guide.save_revision().publish()
    assert "safe and sound" in verified_client_for(second).get(guide.url).text


def test_other_organisations_and_roles_get_their_own_page():
    _, isa, (a, b), _ = agreement_tree(
        organisations=[OrganisationFactory(name="Agency A"),
                       OrganisationFactory(name="Agency B")]
    )  # fmt: skip
    acknowledge(isa.latest_version, a)
    url = isa.url
    signatory_a, signatory_b = signatory_for(a), signatory_for(b)
    assert "Acknowledge version" not in verified_client_for(signatory_a).get(url).text
    html_b = verified_client_for(signatory_b).get(url).text
    assert "for Agency B" in html_b and "for Agency A" not in html_b
    referrer_b = UserFactory(organisation=b, roles=[Role.REFERRER])
    assert "Acknowledge version" not in verified_client_for(referrer_b).get(url).text


def test_a_waiting_message_is_shown_not_skipped(guide, readers):
    first, second = readers
    verified_client_for(first).get(guide.url)
    client = verified_client_for(second)
    waiting = [Message(constants.SUCCESS, "Your change was saved.")]
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies[storage.cookie_name] = storage._encode(waiting)
    response = client.get(guide.url)
    assert "Your change was saved." in response.text
    assert "Your change was saved." not in client.get(guide.url).text


def test_a_page_asked_for_with_a_query_is_not_kept(readers):
    _, isa, _, _ = agreement_tree(organisations=[readers[0].organisation])
    first, second = readers
    url = f"{isa.url}?version=1.0"
    _get(verified_client_for(first), url)
    response, kept = _get(verified_client_for(second), url)
    assert response.status_code == 200 and not kept


def test_nobody_signed_out_is_served_a_kept_page(guide, readers):
    verified_client_for(readers[0]).get(guide.url)
    response = Client().get(guide.url)
    assert response.status_code == 302
    assert "Keeping papers safe" not in response.text


def test_a_home_page_is_kept_for_its_owner_alone(readers):
    from referrals.services import draft_start

    first, second = readers
    draft_start(user=first)
    assert "Your draft referrals: 1" in verified_client_for(first).get("/").text
    response, kept = _get(verified_client_for(second), "/")
    assert not kept  # same roles and agency, but not the same person
    assert "Your draft referrals" not in response.text
    response, kept = _get(verified_client_for(first), "/")
    assert kept and "Your draft referrals: 1" in response.text


def test_the_menu_links_to_the_guidance(guide, readers):
    html = verified_client_for(readers[0]).get("/").text
    index_url = guide.get_parent().url
    assert f'<a class="govuk-service-navigation__link" href="{index_url}">' in html
    assert ">Guidance</a>" in html


def _restrict(page, *roles: Role) -> PageViewRestriction:
    """Page privacy as an editor sets it: "Private, accessible to users in
    specific groups"."""
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.set([role_group(role) for role in roles])
    return restriction


def _restrict_behind_the_signals_back(page, role: Role) -> None:
    """The same privacy written in bulk (another tool, a raw insert): no
    signal is sent, so no cache token changes."""
    PageViewRestriction.objects.bulk_create(
        [PageViewRestriction(page=page, restriction_type="groups")]
    )
    restriction = PageViewRestriction.objects.get(page=page)
    restriction.groups.through.objects.bulk_create(
        [restriction.groups.through(pageviewrestriction=restriction,
                                    group=role_group(role))]
    )  # fmt: skip


def _refused(response) -> bool:
    """Wagtail's refusal for a login or group restriction: off to sign in."""
    return (
        response.status_code == 302
        and response.url.startswith(reverse("accounts:login"))
        and "Keeping papers safe" not in response.text
    )


@pytest.fixture
def people(readers):
    staff = readers[0]
    coordinator = UserFactory(organisation=staff.organisation,
                              roles=[Role.COORDINATOR])  # fmt: skip
    return staff, coordinator


class TestPagePrivacy:
    """A kept page is never served to someone the page's privacy refuses, on
    the page itself or on any page above it, however the change was made."""

    def _read_by_both(self, guide, people):
        for person in people:
            response, _ = _get(verified_client_for(person), guide.url)
            assert "Keeping papers safe" in response.text
        for person in people:  # both readings are kept
            assert _get(verified_client_for(person), guide.url)[1]

    def test_a_restriction_on_the_page_refuses_staff_at_once(self, guide, people):
        staff, coordinator = people
        self._read_by_both(guide, people)
        _restrict(guide, Role.COORDINATOR)
        assert _refused(verified_client_for(staff).get(guide.url))
        response = verified_client_for(coordinator).get(guide.url)
        assert "Keeping papers safe" in response.text

    def test_a_restriction_on_a_parent_refuses_staff_at_once(self, guide, people):
        staff, coordinator = people
        self._read_by_both(guide, people)
        _restrict(guide.get_parent(), Role.COORDINATOR)
        assert _refused(verified_client_for(staff).get(guide.url))
        response = verified_client_for(coordinator).get(guide.url)
        assert "Keeping papers safe" in response.text

    def test_changing_who_a_restriction_admits_shows_at_once(self, guide, people):
        staff, coordinator = people
        restriction = _restrict(guide, Role.COORDINATOR)
        response, _ = _get(verified_client_for(coordinator), guide.url)
        assert "Keeping papers safe" in response.text
        assert _get(verified_client_for(coordinator), guide.url)[1]  # kept
        restriction.groups.set([role_group(Role.REFERRER)])
        assert _refused(verified_client_for(coordinator).get(guide.url))
        assert "Keeping papers safe" in verified_client_for(staff).get(guide.url).text

    def test_removing_a_restriction_shows_the_page_at_once(self, guide, people):
        staff, coordinator = people
        restriction = _restrict(guide, Role.COORDINATOR)
        assert _refused(verified_client_for(staff).get(guide.url))
        verified_client_for(coordinator).get(guide.url)
        restriction.delete()
        response = verified_client_for(staff).get(guide.url)
        assert response.status_code == 200 and "Keeping papers safe" in response.text

    def test_someone_taken_out_of_the_group_is_refused_at_once(self, guide, people):
        staff, coordinator = people
        coordinator.groups.add(role_group(Role.REFERRER))  # coordinates and refers
        _restrict(guide, Role.COORDINATOR)
        assert (
            "Keeping papers safe"
            in verified_client_for(coordinator).get(guide.url).text
        )
        coordinator.groups.remove(role_group(Role.COORDINATOR))
        assert _refused(verified_client_for(coordinator).get(guide.url))

    def test_someone_taken_out_of_the_group_behind_the_signals_back_is_refused(
        self, guide, people
    ):
        """Taken out of the group by a raw delete, the person now has the same
        roles as the staff member whose reading was kept while the page was
        open; that reading is still not served to them."""
        staff, coordinator = people
        coordinator.groups.add(role_group(Role.REFERRER))
        assert _get(verified_client_for(staff), guide.url)[0].status_code == 200
        _restrict(guide, Role.COORDINATOR)
        assert (
            "Keeping papers safe"
            in verified_client_for(coordinator).get(guide.url).text
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {User.groups.through._meta.db_table} "  # noqa: S608
                "WHERE user_id = %s AND group_id = %s",
                [coordinator.pk, role_group(Role.COORDINATOR).pk],
            )
        assert _refused(verified_client_for(coordinator).get(guide.url))

    def test_a_change_no_signal_announced_still_refuses(self, guide, people):
        """Defence in depth: privacy written behind the signals' back (a bulk
        write, a raw insert, another tool) leaves the cache token as it was,
        and a kept page is still not served to someone it would refuse."""
        staff, coordinator = people
        self._read_by_both(guide, people)
        token = freshness.token()
        _restrict_behind_the_signals_back(guide, Role.COORDINATOR)
        assert freshness.token() == token  # no signal: nothing was outdated
        assert _refused(verified_client_for(staff).get(guide.url))
        response, kept = _get(verified_client_for(coordinator), guide.url)
        assert "Keeping papers safe" in response.text and kept

    def test_a_restriction_moved_in_behind_the_signals_back_refuses(
        self, guide, people
    ):
        """The same, for a restriction on a page above, moved by a bulk
        update from another page."""
        staff, _ = people
        self._read_by_both(guide, people)
        elsewhere = guidance(title="Elsewhere")
        restriction = _restrict(elsewhere, Role.COORDINATOR)
        self._read_by_both(guide, people)  # read again after the token changed
        token = freshness.token()
        PageViewRestriction.objects.filter(pk=restriction.pk).update(
            page=guide.get_parent()
        )
        assert freshness.token() == token
        assert _refused(verified_client_for(staff).get(guide.url))

    def test_a_page_moved_under_a_restricted_page_behind_the_signals_back(
        self, guide, people
    ):
        """The page's own path is read on every answer: moved by a raw update
        of its path under a restricted page, it is refused at once."""
        staff, _ = people
        closed = guidance(title="Closed section")
        _restrict(closed, Role.COORDINATOR)
        self._read_by_both(guide, people)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE wagtailcore_page SET path = %s WHERE id = %s",
                [closed.path + "0001", guide.pk],
            )
        assert _refused(verified_client_for(staff).get(guide.url))

    def test_an_alias_of_a_restricted_page_is_refused(self, guide, people):
        """Wagtail applies the original's privacy to its aliases too."""
        staff, coordinator = people
        alias = guide.create_alias(parent=guidance(title="Elsewhere"))
        for person in people * 2:  # read, then kept
            response, kept = _get(verified_client_for(person), alias.url)
            assert "Keeping papers safe" in response.text
        assert kept
        # Behind the signals' back, so the kept page is still there.
        _restrict_behind_the_signals_back(guide, Role.COORDINATOR)
        assert _refused(verified_client_for(staff).get(alias.url))
        response, kept = _get(verified_client_for(coordinator), alias.url)
        assert "Keeping papers safe" in response.text

    def test_a_password_restriction_is_asked_for_not_skipped(self, guide, people):
        staff, _ = people
        self._read_by_both(guide, people)
        PageViewRestriction.objects.bulk_create(
            [
                PageViewRestriction(
                    page=guide, restriction_type="password", password="shared-secret"
                )
            ]  # fmt: skip
        )
        response = verified_client_for(staff).get(guide.url)
        assert "Keeping papers safe" not in response.text
        assert 'name="password"' in response.text

    def test_an_unpublished_page_is_not_served_from_the_cache(self, guide, people):
        staff, _ = people
        self._read_by_both(guide, people)
        type(guide).objects.filter(pk=guide.pk).update(live=False)
        response = verified_client_for(staff).get(guide.url)
        assert response.status_code == 404


class TestRolesAndPermissions:
    def test_a_group_losing_a_permission_shows_at_once(self):
        editor = UserFactory(roles=[Role.EDITOR])
        assert "Portal administration" in verified_client_for(editor).get("/").text
        access_admin = Permission.objects.get(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
        role_group(Role.EDITOR).permissions.remove(access_admin)
        assert "Portal administration" not in verified_client_for(editor).get("/").text
