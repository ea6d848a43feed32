"""The meeting page's agenda and add-a-case form are rendered once per
audience and shared for a minute (meetings.views._agenda and
_agenda_builder, docs/caching.md): each agency still sees only the cases it
is invited to, each form carries the reader's own CSRF token, every view is
audited, and a change shows on the next request, signal or not."""

import re
import time
from html import unescape

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import Role
from audit.models import AuditEvent
from meetings.models import Meeting, MeetingStatus
from meetings.views import AGENDA_SECONDS
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db


def _referrer(organisation):
    return UserFactory(organisation=organisation, roles=[Role.REFERRER])


@pytest.fixture
def world():
    """A meeting with two cases from Housing: Police is invited to the first,
    Fire to the second; a third accepted case waits for a meeting."""
    boss = coordinator()
    housing, police, fire = (
        OrganisationFactory(name=name) for name in ("Housing", "Police", "Fire")
    )
    upcoming = meeting(boss)
    cases = [accepted(submitted_referral(_referrer(housing)), boss) for _ in range(3)]
    on_agenda(upcoming, cases[0], [police], boss)
    on_agenda(upcoming, cases[1], [fire], boss)
    return {
        "boss": boss,
        "meeting": upcoming,
        "cases": cases,
        "police": _referrer(police),
        "fire": _referrer(fire),
    }


def _page(client_or_user, upcoming) -> str:
    client = client_or_user
    if not isinstance(client, Client):
        client = verified_client_for(client_or_user)
    response = client.get(upcoming.get_absolute_url())
    assert response.status_code == 200
    return response.text


def _papers_out(upcoming):
    # As the benchmark does: an UPDATE, which sends no signal and so replaces
    # no freshness token. The page must still see the meeting's new stage.
    Meeting.objects.filter(pk=upcoming.pk).update(status=MeetingStatus.PAPERS_ISSUED)


def test_each_agency_sees_only_the_cases_it_is_invited_to(world):
    upcoming, (first, second, _) = world["meeting"], world["cases"]
    assert "Papers are not issued yet" in _page(world["police"], upcoming)
    _papers_out(upcoming)
    police = _page(world["police"], upcoming)
    fire = _page(world["fire"], upcoming)
    assert first.reference in police and second.reference not in police
    assert second.reference in fire and first.reference not in fire
    assert "1 other case on the agenda does not involve your organisation" in fire
    # The coordinator's agenda, kept before or after theirs, has both.
    boss = _page(world["boss"], upcoming)
    assert first.reference in boss and second.reference in boss
    assert first.reference not in _page(world["fire"], upcoming)


def _form(page: str, button: str) -> tuple[str, str]:
    """The action and CSRF token of the form whose button reads ``button``,
    as a person's browser would send them."""
    for form in re.findall(r"<form .*?</form>", page, flags=re.S):
        if button in re.sub(r"<[^>]+>", "", form):
            action = re.search(r'action="([^"]+)"', form).group(1)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
            return unescape(action), token.group(1)
    raise AssertionError(f"No form with {button!r}")


def _agenda_order(page: str, cases) -> list[str]:
    table = page[page.index('id="agenda"') :]
    return sorted(
        (c.reference for c in cases if c.reference in table),
        key=table.index,
    )


def test_a_coordinator_moves_a_case_from_the_shared_page(world):
    """Another coordinator's page is kept first: the boss's page still
    carries the boss's own token, the move is accepted, and the page they
    are sent back to shows the new order at once (a bulk UPDATE)."""
    upcoming, cases = world["meeting"], world["cases"][:2]
    colleague_page = _page(coordinator(), upcoming)
    assert _agenda_order(colleague_page, cases) == [c.reference for c in cases]

    client = verified_client_for(world["boss"])
    client.handler.enforce_csrf_checks = True
    page = _page(client, upcoming)
    action, token = _form(page, f"Move down {cases[0].reference}")
    assert token != _form(colleague_page, f"Move down {cases[0].reference}")[1]
    response = client.post(
        action, {"csrfmiddlewaretoken": token, "direction": "down"}, follow=True
    )
    assert response.status_code == 200
    assert _agenda_order(response.text, cases) == [cases[1].reference,
                                                   cases[0].reference]  # fmt: skip
    assert _agenda_order(_page(coordinator(), upcoming), cases) == [
        cases[1].reference,
        cases[0].reference,
    ]


def test_a_case_added_from_the_shared_form_leaves_the_list(world):
    upcoming, waiting = world["meeting"], world["cases"][2]
    _page(coordinator(), upcoming)  # kept with the colleague's token
    client = verified_client_for(world["boss"])
    client.handler.enforce_csrf_checks = True
    page = _page(client, upcoming)
    assert f'value="{waiting.reference}"' in page
    action, token = _form(page, "Add to the agenda")
    response = client.post(
        action,
        {"csrfmiddlewaretoken": token, "case": waiting.reference,
         "slot_minutes": "15"},
        follow=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert f"{waiting.reference} is on the agenda." in response.text
    assert f'value="{waiting.reference}"' not in response.text
    assert "No accepted referrals are waiting for a meeting." in response.text
    # A case accepted since is offered on the next request.
    newer = accepted(submitted_referral(), world["boss"])
    assert f'value="{newer.reference}"' in _page(coordinator(), upcoming)


def test_every_view_is_audited_even_from_the_shared_agenda(world):
    upcoming = world["meeting"]
    _papers_out(upcoming)
    readers = [world["police"], world["police"], world["boss"]]
    for reader in readers:
        _page(reader, upcoming)
    viewed = AuditEvent.objects.filter(
        action="read", object_type="meetings.meeting", object_id=str(upcoming.pk)
    )
    assert sorted(viewed.values_list("actor_id", flat=True)) == sorted(
        reader.pk for reader in readers
    )


def test_what_is_shared_lives_a_minute_at_most(world):
    """Case references are personal data (docs/caching.md): the local-memory
    cache of the tests keeps each entry's expiry time."""
    upcoming = world["meeting"]
    _papers_out(upcoming)
    cache.clear()
    _page(world["police"], upcoming)
    _page(world["boss"], upcoming)
    kept = [key for key in cache._cache if ":meetings:agenda" in key]
    assert len(kept) == 3  # the agency's agenda, the coordinator's and form
    assert AGENDA_SECONDS == 60
    for key in kept:
        assert cache._expire_info[key] - time.time() <= AGENDA_SECONDS
