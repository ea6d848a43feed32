"""The meetings list: newest first, a page at a time, every meeting reachable."""

import re

import pytest
from django.urls import reverse

from accounts.models import Role
from meetings.models import Reply
from meetings.services import attendance_reply
from meetings.views import MEETINGS_PER_PAGE
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db


def _listed(html: str) -> list[str]:
    return re.findall(r'href="/meetings/(\d+)/"', html)


def test_older_meetings_are_on_the_next_page():
    boss = coordinator()
    count = MEETINGS_PER_PAGE + 2
    made = [meeting(boss, days_ahead=days) for days in range(1, count + 1)]
    newest_first = [str(m.pk) for m in reversed(made)]
    client = verified_client_for(boss)

    first = client.get(reverse("meetings:index")).content.decode()
    assert _listed(first) == newest_first[:MEETINGS_PER_PAGE]
    assert f"Meetings 1 to {MEETINGS_PER_PAGE} of {count}." in first
    following = re.search(r'href="\?page=(\d+)" rel="next"', first)
    assert following is not None, "a Next link"

    second = client.get(
        reverse("meetings:index"), {"page": following.group(1)}
    ).content.decode()
    assert _listed(second) == newest_first[MEETINGS_PER_PAGE:]
    assert f"Meetings {MEETINGS_PER_PAGE + 1} to {count} of {count}." in second


def test_a_page_number_that_is_not_there_shows_the_last_page():
    boss = coordinator()
    only = meeting(boss)
    body = verified_client_for(boss).get(reverse("meetings:index"), {"page": "9x"})
    assert body.status_code == 200
    assert _listed(body.content.decode()) == [str(only.pk)]


def test_a_new_meeting_shows_at_once_though_the_list_is_kept():
    boss = coordinator()
    first = meeting(boss, days_ahead=3)
    client = verified_client_for(boss)
    assert _listed(client.get(reverse("meetings:index")).content.decode()) == [
        str(first.pk)
    ]
    second = meeting(boss, days_ahead=5)
    assert _listed(client.get(reverse("meetings:index")).content.decode()) == [
        str(second.pk),
        str(first.pk),
    ]


def test_a_kept_list_is_never_shown_to_someone_else():
    """Two referrers at one organisation, alike in roles: the one named as
    the chair's deputy sees the meeting, the other does not, in either order."""
    boss = coordinator()
    held = meeting(boss, days_ahead=4)
    on_agenda(held, accepted(submitted_referral(), boss), [OrganisationFactory()], boss)
    deputy, colleague = (
        UserFactory(organisation=boss.organisation, roles=[Role.REFERRER])
        for _ in range(2)
    )
    attendance_reply(meeting=held, user=boss, reply=Reply.APOLOGIES, deputy=deputy)
    for _ in range(2):
        for person, sees in ((deputy, True), (colleague, False)):
            body = verified_client_for(person).get(reverse("meetings:index"))
            assert (str(held.pk) in _listed(body.content.decode())) is sees
