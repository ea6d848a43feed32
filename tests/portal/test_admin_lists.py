"""Every admin list applies only what it declares (portal.modeladmin).

No lookup in the address may reach through relations to a secret (a password
hash, an authenticator key, a backup code's hash): the rows a list shows must
not depend on whether a guessed prefix is right. No hostile value (letters
for an id, 30 February, a huge number, 10,000 characters, a quote, a NUL)
may make a list fail.

The lists come from the URL resolver (routes.py): wagtail-modeladmin lists,
Wagtail's viewsets, snippets, reports and the page explorer. A list added
later is covered without anyone remembering to add it here.
"""

import difflib
import html
import re
from collections import deque
from urllib.parse import quote, quote_plus

import pytest
from django.apps import apps
from django.contrib.contenttypes.fields import GenericForeignKey, GenericRelation
from django_otp.plugins.otp_totp.models import TOTPDevice
from wagtail_modeladmin.views import IndexView as ModelAdminIndexView

from accounts.models import BackupCode, User
from portal.modeladmin import (
    IGNORED_MESSAGE,
    DeclaredFiltersIndexView,
    PortalModelAdmin,
)
from tests.conftest import verified_client_for

from .routes import all_routes

# A walk over the whole portal: `make test` runs it, `make test-fast` does not.
pytestmark = [pytest.mark.django_db, pytest.mark.sweep]

ROUTES, _ = all_routes()
LISTS = [route for route in ROUTES if route.list_view_class]
MODELADMIN_LISTS = [
    route for route in LISTS if issubclass(route.list_view_class, ModelAdminIndexView)
]
MODELADMIN_ROUTES = [route for route in ROUTES if route.model_admin]

# Each secret a lookup could test a guess against: the model and its field.
SECRETS = {User: "password", TOTPDevice: "key", BackupCode: "code_hash"}

# The outside test's own lookups, and others like them; on most lists they
# name no field at all, which must not fail either.
NAMED_LOOKUPS = [
    "owner_person__organisation__users__username",
    "owner_person__organisation__users__totpdevice__key__startswith",
    "referrer__totpdevice__key__startswith",
    "users__password__startswith",
    "users__staticdevice__token_set__token__startswith",
    "organisation__users__backupcodedevice__codes__code_hash__startswith",
    "no_such_field",
]
# Values the outside test sent to declared filters, by name.
FOUND = {
    "urgent": "true",
    "organisation__id__exact": "abc",
    "submitted_at__gte": "notadate",
    "starts_at__gte": "2026-02-30",
}
HOSTILE_VALUES = ["x", "2026-02-30", "9" * 30, "9" * 10_000, '"', "\x00"]
# Parameters a list reads for paging, ordering, search and export.
LIST_PARAMETERS = ["p", "page", "o", "ot", "ordering", "q", "export", "e"]


@pytest.fixture(scope="module")
def people(demo_seeded, django_db_blocker):
    """A superuser, who may open every list, and a coordinator, who may open
    the case lists (the demo partnership's own)."""
    with django_db_blocker.unblock():
        return [User.objects.get(username=name) for name in ("admin", "coordinator")]


def test_the_lists_are_found():
    # Wagtail's own lists (users, documents, pages, reports...) and ours.
    assert len(LISTS) > 40
    assert len(MODELADMIN_LISTS) >= 8


@pytest.mark.parametrize("route", MODELADMIN_ROUTES, ids=str)
def test_every_modeladmin_screen_is_a_portal_one(route):
    assert isinstance(route.model_admin, PortalModelAdmin), route
    assert issubclass(route.model_admin.index_view_class, DeclaredFiltersIndexView)


@pytest.mark.parametrize("route", LISTS, ids=str)
def test_no_lookup_reads_a_secret_and_no_value_fails(people, route):
    problems, opened, probed = [], 0, 0
    for person in people:
        client = verified_client_for(person)
        response = client.get(route.url)
        if response.status_code == 500:
            problems.append((person.username, route.url, 500))
        if response.status_code != 200:
            continue  # this person cannot open the list
        opened += 1
        view = response.context["view"]
        rows = _rows(response)
        for lookup, right, wrong in _secret_probes(rows):
            probed += 1
            problem = _depends_on_the_guess(
                client, route, response, lookup, right, wrong
            )
            if problem:
                problems.append((person.username, lookup, problem))
        for value in HOSTILE_VALUES:
            query = dict.fromkeys(_parameters(view, rows), value)
            status = client.get(route.url, {**query, **FOUND}).status_code
            expected = {400} if value == "\x00" else {200, 400}
            if status not in expected:
                problems.append((person.username, repr(value[:12]), status))
    assert problems == [], route
    if route in MODELADMIN_LISTS:
        # Our own lists must really be tried: someone opens each, and where
        # its model leads to a secret at all, its rows lead to one to guess at.
        # (The background work lists, jobs, lead to no person.)
        model = route.model_admin.model
        reaches = any(
            next(iter(_relation_paths(model, target)), None) is not None
            for target in SECRETS
        )
        assert opened and (probed or not reaches), (
            f"{route}: the test data no longer fits"
        )


class TestDeclaredFilters:
    """What the list does with what it ignores, on the coordinators' list."""

    URL = "/admin/referrals/referral/"

    @pytest.fixture
    def coordinator_client(self, people):
        return verified_client_for(people[1])

    def test_an_undeclared_lookup_is_ignored_and_the_list_says_so(
        self, coordinator_client
    ):
        everything = _rows(coordinator_client.get(self.URL))
        assert everything
        response = coordinator_client.get(
            self.URL, {"referrer__totpdevice__key__startswith": "no such key"}
        )
        assert _rows(response) == everything
        assert IGNORED_MESSAGE in html.unescape(response.content.decode())

    @pytest.mark.parametrize("query", [{"urgent": "true"}, FOUND], ids=str)
    def test_a_value_a_declared_filter_cannot_use_is_ignored(
        self, coordinator_client, query
    ):
        everything = _rows(coordinator_client.get(self.URL))
        response = coordinator_client.get(self.URL, query)
        assert _rows(response) == everything
        assert IGNORED_MESSAGE in html.unescape(response.content.decode())

    def test_declared_filters_still_apply_next_to_an_ignored_one(
        self, coordinator_client
    ):
        accepted = _rows(
            coordinator_client.get(self.URL, {"status__exact": "accepted"})
        )
        assert accepted and accepted != _rows(coordinator_client.get(self.URL))
        response = coordinator_client.get(
            self.URL,
            {"status__exact": "accepted", "organisation__id__exact": "x"},
        )
        assert _rows(response) == accepted
        # The filter links keep the declared filter and drop the ignored one.
        page = html.unescape(response.content.decode())
        assert "status__exact=accepted" in page
        assert "organisation__id__exact=x" not in page

    def test_a_plain_list_shows_no_message(self, coordinator_client):
        page = coordinator_client.get(self.URL, {"status__exact": "accepted"})
        assert IGNORED_MESSAGE not in html.unescape(page.content.decode())

    @pytest.mark.parametrize("pk", ["x", "9" * 20, "-1"])
    def test_object_screens_exist_only_for_whole_number_ids(
        self, coordinator_client, pk
    ):
        response = coordinator_client.get(f"{self.URL}inspect/{pk}/")
        assert response.status_code == 404

    def test_a_list_without_an_export_gives_none(self, people):
        response = verified_client_for(people[0]).get(
            "/admin/home/guidancepage/", {"export": "csv"}
        )
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")


# Helpers -----------------------------------------------------------------------


def _depends_on_the_guess(client, route, unfiltered, lookup, right, wrong):
    """What, if anything, gives away whether the guess is right."""
    right_page, wrong_page = (
        client.get(route.url, {lookup: g}) for g in (right, wrong)
    )
    if 500 in (right_page.status_code, wrong_page.status_code):
        return "500"
    counts = [_count(page) for page in (unfiltered, right_page, wrong_page)]
    if min(counts[1:]) < counts[0]:
        return "the guess narrows the list"
    if _rows(right_page) == _rows(wrong_page):
        texts = [_page(page, right, wrong) for page in (right_page, wrong_page)]
        if texts[0] != texts[1]:
            diff = difflib.unified_diff(*(t.splitlines() for t in texts), n=0)
            return f"the page differs: {[line[:200] for line in diff][2:4]}"
    elif not counts[1] < counts[2]:
        # Rows may differ only on a list that grew between the two requests
        # (the audit log records its own reading).
        return "the rows differ"
    return None


def _rows(response) -> list:
    """The listed objects as (model label, pk), in order, from the context."""
    assert response.status_code == 200, response.status_code
    return [
        (row._meta.label, row.pk) if hasattr(row, "_meta") else (None, row)
        for row in response.context.get("object_list") or []
    ]


def _count(response) -> int:
    """How many rows the list has, over all its pages."""
    paginator = response.context.get("paginator")
    return paginator.count if paginator else len(_rows(response))


def _listed_model(rows):
    """The model of the listed rows, if they are all of one."""
    labels = {label for label, _ in rows}
    if len(labels) != 1 or None in labels:
        return None
    return apps.get_model(labels.pop())


def _secret_probes(rows):
    """(lookup, right prefix, wrong prefix) for each secret a listed row leads
    to; the right prefix is the start of a secret one of these rows reaches."""
    model = _listed_model(rows)
    if model is None:
        return
    pks = [pk for _, pk in rows]
    for target, field in SECRETS.items():
        for path in _relation_paths(model, target):
            lookup = f"{path}__{field}" if path else field
            value = (
                model._default_manager.filter(pk__in=pks)
                .exclude(**{f"{lookup}__isnull": True})
                .exclude(**{lookup: ""})
                .values_list(lookup, flat=True)
                .first()
            )
            if value:
                right = value[:12]
                wrong = right[:-1] + ("0" if right[-1] != "0" else "1")
                yield f"{lookup}__startswith", right, wrong
                break


def _relation_paths(model, target, depth=4, tries=30):
    """Lookups from ``model`` to ``target`` through relations, forwards or
    backwards, shortest first ("" when they are the same model)."""
    queue, seen = deque([(model, "")]), {model}
    while queue and tries:
        current, path = queue.popleft()
        if current is target:
            tries -= 1
            yield path
            continue
        if path.count("__") + 1 >= depth:
            continue
        for field in current._meta.get_fields():
            related = field.related_model if field.is_relation else None
            # Generic relations join ids of any type (text to integer fails on
            # PostgreSQL); other relations reach the same secrets.
            if related is None or isinstance(
                field, GenericForeignKey | GenericRelation
            ):
                continue
            if related is target or related not in seen:
                seen.add(related)
                queue.append((related, f"{path}__{field.name}" if path else field.name))


def _parameters(view, rows) -> set[str]:
    """Every parameter worth a hostile value: the list's declared filters,
    paging, ordering and search, lookups on the listed model's own fields,
    and the outside test's lookups."""
    names = {*LIST_PARAMETERS, *NAMED_LOOKUPS}
    for spec in getattr(view, "filter_specs", None) or []:  # modeladmin
        names.update(spec.expected_parameters())
    filters = getattr(view, "filters", None)  # Wagtail's django-filter lists
    if filters is not None:
        for name, field in filters.form.fields.items():
            suffixes = getattr(field.widget, "widgets_names", None) or [""]
            names.update(f"{name}{suffix}" for suffix in suffixes)
    model = _listed_model(rows)
    if model is not None:
        for field in model._meta.concrete_fields:
            names.update({field.name, f"{field.name}__gte", f"{field.name}__id__exact"})
    return names


_VOLATILE = re.compile(
    r'(name="csrfmiddlewaretoken" value="|nonce="|"CSRF_TOKEN": ")[^"]*'
)


# Wagtail's "Just now", "3 minutes ago": a minute may pass between requests.
_RELATIVE_TIME = re.compile(
    r"just now|\d+\W+(?:second|minute|hour|day|week|month|year)s?"
    r"(?:,\W+\d+\W+\w+)?\W+ago",
    re.IGNORECASE,  # Wagtail's site history writes "Just now"
)


def _page(response, *guesses) -> str:
    """The page without what differs on every request (CSRF tokens, CSP nonces,
    relative times) or only echoes the guess back."""
    text = _VOLATILE.sub(r"\1", response.content.decode())
    text = _RELATIVE_TIME.sub("WHEN", text)
    for guess in guesses:
        for form in {guess, html.escape(guess), quote(guess), quote_plus(guess)}:
            text = text.replace(form, "GUESS")
    return text
