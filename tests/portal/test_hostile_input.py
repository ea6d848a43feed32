"""No address makes the portal fail, however hostile.

Every route in the URL resolver (routes.py) is asked for, by a verified
coordinator and a verified referrer, with hostile values in its path (a NUL
character, 10,000 characters, letters or a number too large for the database
where an id belongs) and in its query string. Any answer but a 500 will do: the
page, a redirect, 400, 403, 404 or 405. A route added later is covered too.
"""

import pytest

from accounts.models import Role
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.shared_setup import rolled_back_after_module

from .routes import all_routes, route_params
from .test_permission_ladder import DELIBERATE_ERRORS

ROUTES = [
    route
    for route in all_routes()[0]
    if (route.name or route.pattern) not in DELIBERATE_ERRORS
]

NUL = "\x00"
# Letters where an id belongs and overlong at once; a number too large for
# the database.
PATH_VALUES = ["a" * 10_000, "9" * 20]
# What the portal's and Wagtail's views read from the query string.
QUERY_NAMES = [
    "q", "page", "p", "o", "ordering", "export", "format", "show", "referral",
    "meeting", "organisation", "version", "change", "check", "return", "next",
    "from", "id",
]  # fmt: skip
QUERIES = [
    # Overlong, and letters where a number is expected.
    dict.fromkeys(QUERY_NAMES, "x" + "9" * 9_999),
    # A number too large for any database column; a bare quote to search for.
    {**dict.fromkeys(QUERY_NAMES, "9" * 20), "q": '"'},
]


# A walk over the whole portal: `make test` runs it, `make test-fast` does not.
pytestmark = pytest.mark.sweep


@pytest.fixture(scope="module")
def people(django_db_setup, django_db_blocker):
    """A coordinator and a referrer, made once for the module and rolled back."""
    with rolled_back_after_module(django_db_blocker):
        yield {
            "coordinator": UserFactory(roles=[Role.COORDINATOR]),
            "referrer": UserFactory(roles=[Role.REFERRER]),
        }


@pytest.mark.django_db
@pytest.mark.parametrize("route", route_params(ROUTES))
def test_hostile_path_and_query_never_fail(people, route):
    urls = sorted({route.url_with(value) for value in PATH_VALUES} - {route.url})
    failures = []
    for who, person in people.items():
        client = verified_client_for(person)
        for url in urls:
            if client.get(url).status_code == 500:
                failures.append((who, url[:80]))
        for query in QUERIES:
            if client.get(route.url, query).status_code == 500:
                failures.append((who, route.url, query["q"][:12]))
    assert failures == []


@pytest.fixture(scope="module")
def coordinator_client(people, django_db_blocker):
    """The coordinator signed in once for the module (in its transaction):
    a NUL is refused before the session is read, so the session's age and
    what earlier tests did with it cannot change the answer."""
    with django_db_blocker.unblock():
        return verified_client_for(people["coordinator"])


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_a_nul_anywhere_in_the_address_is_a_bad_request(coordinator_client, route):
    # Refused before anyone is identified, so one person will do.
    client = coordinator_client
    urls = [f"{route.url}?q=a%00b", f"{route.url}?%00=x"]
    if "%00" in (in_path := route.url_with(f"1{NUL}")):
        urls.append(in_path)
    for url in urls:
        assert client.get(url).status_code == 400, url
