"""No personal data in audit events (docs/audit.md, "No personal data in events").

The log outlives every case it mentions, so a name or phone number written
into it could never be disposed of. These tests put a known name and phone
number into a case, drive the audited paths that see them, and search every
text field of every event for them.
"""

import ast
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.keys import signing_key
from audit.models import AuditEvent
from audit.privacy import (
    DETAIL_KEYS,
    FREE_TEXT_KEYS,
    SEARCH_TERM_KEYS,
    PersonalDataInAudit,
    search_term_digest,
)
from audit.services import audit_record
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import person, submitted_referral

pytestmark = pytest.mark.django_db

NAME = "Roisin Featherstonehaugh"
PHONE = "07700 900 461"


def events_mentioning(*needles: str) -> list[tuple[int, str]]:
    """(event id, field) for every event field holding one of ``needles``."""
    found = []
    for row in AuditEvent.objects.values():
        for field, value in row.items():
            text = str(value).casefold()
            if any(needle.casefold() in text for needle in needles):
                found.append((row["id"], field))
    return found


@pytest.fixture
def case():
    referrer = UserFactory(roles=[Role.REFERRER])
    return submitted_referral(referrer, people=[person(0, name=NAME, phone=PHONE)])


class TestSearchTerms:
    def test_a_coordinator_searching_names_leaves_no_name_in_the_log(self, case):
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        client = verified_client_for(coordinator)
        for query in (NAME, "featherstonehaugh", PHONE):
            response = client.get(reverse("search"), {"q": query})
            assert response.status_code == 200
        detail = client.get(reverse("referrals:detail", args=[case.reference]))
        assert detail.status_code == 200

        assert events_mentioning(NAME, "featherstonehaugh", PHONE, "900 461") == []
        searches = AuditEvent.objects.filter(action="search", actor=coordinator)
        assert searches.count() == 3
        # The case found is still named, by its reference.
        assert searches.order_by("id").first().detail["referrals"] == [case.reference]

    def test_an_investigator_who_knows_the_term_finds_the_search(self, case):
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        verified_client_for(coordinator).get(reverse("search"), {"q": NAME})
        # Case and spacing do not matter: the same name typed another way.
        digest = search_term_digest("  roisin   FEATHERSTONEHAUGH ")
        found = AuditEvent.objects.filter(detail__query_hmac=digest)
        assert list(found.values_list("actor", flat=True)) == [coordinator.pk]
        assert not AuditEvent.objects.filter(
            detail__query_hmac=search_term_digest("Roisin Smith")
        ).exists()


class TestTheGuard:
    def test_free_text_is_withheld_and_its_presence_shown(self):
        event = audit_record(
            action="referral.share_ended",
            detail={"reference": "CM-1", "end_reason": f"{NAME} moved away"},
        )
        assert event.detail == {"reference": "CM-1", "withheld": ["end_reason"]}
        assert events_mentioning(NAME) == []

    def test_an_unknown_key_is_refused_in_development_and_tests(self):
        with pytest.raises(PersonalDataInAudit, match="'phone'"):
            audit_record(action="test.unknown", detail={"phone": PHONE})
        assert not AuditEvent.objects.filter(action="test.unknown").exists()

    def test_an_unknown_key_is_withheld_and_logged_in_production(
        self, settings, caplog
    ):
        settings.AUDIT_DETAIL_STRICT = False
        with caplog.at_level(logging.ERROR, logger="audit.privacy"):
            event = audit_record(action="test.unknown", detail={"phone": PHONE})
        assert event.detail == {"withheld": ["phone"]}
        assert "'phone' withheld" in caplog.text
        assert events_mentioning(PHONE) == []


def test_every_detail_key_in_the_code_is_declared():
    """Each ``detail={...}`` written in the apps uses only declared keys, so a
    new call site is checked before it first runs, not only when a test
    happens to reach it."""
    declared = DETAIL_KEYS | FREE_TEXT_KEYS | SEARCH_TERM_KEYS
    undeclared = []
    for path in Path(settings.BASE_DIR).rglob("*.py"):
        if {".venv", "node_modules", "tests", "migrations"} & set(path.parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call):
                continue
            for keyword in node.keywords:
                if keyword.arg == "detail" and isinstance(keyword.value, ast.Dict):
                    undeclared += [
                        f"{path.name}:{node.lineno} {key.value!r}"
                        for key in keyword.value.keys
                        if isinstance(key, ast.Constant) and key.value not in declared
                    ]
    assert undeclared == []


def test_the_investigators_command_prints_the_stored_digest(capsys):
    event = audit_record(action="search", detail={"query": NAME})
    call_command("audit_search_term", NAME.upper())
    out = capsys.readouterr().out
    assert f"key {signing_key().id}: {event.detail['query_hmac']}" in out
    assert NAME.casefold() not in out.casefold()


class TestFreeTextAboutPeople:
    """Reasons people type often name the person; the event says a reason was
    given, and the reason stays on its own record."""

    def test_changing_a_shares_access_with_a_reason_naming_the_person(self, case):
        boss = coordinator()
        referral = accepted(case, boss)
        on_agenda(meeting(boss), referral, [OrganisationFactory(name="Police")])
        share = referral.shares.get()
        url = reverse("referrals:access_change", args=[referral.reference, share.pk])
        client = verified_client_for(boss)
        later = timezone.localdate() + timedelta(days=200)
        extended = client.post(
            url,
            {"change": "extend", "ends_on_0": later.day, "ends_on_1": later.month,
             "ends_on_2": later.year, "why": f"{NAME} asked, call {PHONE}"},
        )  # fmt: skip
        ended = client.post(url, {"change": "end", "why": f"{NAME} moved away"})
        assert (extended.status_code, ended.status_code) == (302, 302)

        for action, key in (
            ("referral.share_extended", "why"),
            ("referral.share_ended", "end_reason"),
        ):
            event = AuditEvent.objects.get(action=action, actor=boss)
            assert event.detail["withheld"] == [key]
            assert event.detail["reference"] == referral.reference
        assert events_mentioning(NAME, PHONE) == []
