"""The menu offers each person only pages their roles let them use.

For every demo login (each role and combination of roles the demo has, and
the organisations whose acknowledgements are overdue), every link in the menu
is followed: none may answer 403 or 404, since a menu link to a page that
refuses you is a dead end.
"""

import re

import pytest

from accounts.models import User
from documents.selectors import may_exchange
from meetings.selectors import meetings_invited_to
from referrals.selectors import referrals_visible_to
from tests.conftest import verified_client_for

# A walk over the whole portal: `make test` runs it, `make test-fast` does not.
pytestmark = [pytest.mark.django_db, pytest.mark.sweep]

MENU = re.compile(r'<nav aria-label="Menu".*?</nav>', re.S)
HREF = re.compile(r'href="([^"]+)"')


def menu_links(client) -> list[str]:
    page = client.get("/").content.decode()
    return HREF.findall(MENU.search(page).group(0))


def test_every_menu_link_opens_for_every_demo_login(demo_seeded):
    people = User.objects.filter(totpdevice__confirmed=True).distinct()
    assert people.count() > 20, "the demo should have loaded its logins"
    dead_ends = []
    for person in people:
        client = verified_client_for(person)
        for link in menu_links(client):
            status = client.get(link).status_code
            if status in (403, 404):
                dead_ends.append(f"{person.username} {link} {status}")
    assert not dead_ends, "\n".join(dead_ends)


# Each case page and what the page itself lets a person see there.
CASE_PAGES = {
    "/referrals/": lambda p: not referrals_visible_to(p).query.is_empty(),
    "/meetings/": lambda p: not meetings_invited_to(p).query.is_empty(),
    "/files/": may_exchange,
}


def test_case_pages_are_offered_exactly_to_people_who_can_use_them(demo_seeded):
    # Signatories, editors and administrators without a case role would open
    # a list that can never hold anything for them.
    wrong = []
    for person in User.objects.filter(totpdevice__confirmed=True).distinct():
        links = set(menu_links(verified_client_for(person)))
        for path, may_use in CASE_PAGES.items():
            if (path in links) != may_use(person):
                wrong.append(f"{person.username} {path} shown={path in links}")
    assert not wrong, "\n".join(wrong)
