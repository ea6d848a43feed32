"""The agreement decides who sees case material: every case route, walked from
the URL resolver, for every kind of organisation the agreement shuts out.

Deny by default (docs/features.md, "Agreements"; docs/security.md, "Case
material and the agreement"): a late party, an organisation outside the ISA
and everyone when no ISA is published get the refusal page, and each refusal
is audited once. People at a withdrawn organisation cannot sign in at all.
"""

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.urls import reverse

from accounts.backends import PartnerBackend
from audit.models import AuditEvent, Outcome
from tests.conftest import verified_client_for
from tests.factories import TEST_PASSWORD, OrganisationFactory, UserFactory
from tests.factories.agreements import acknowledge, agreement_tree
from tests.factories.referrals import share, submitted_referral

from .routes import all_routes

ROUTES, _ = all_routes()
CASE_ROUTES = [
    r
    for r in ROUTES
    if r.level == "verified"
    and r.name.split(":")[0] in django_settings.CASE_MATERIAL_NAMESPACES
]
CASE_APPS = ("referrals.", "meetings.", "documents.")

pytestmark = pytest.mark.django_db


def _denials() -> int:
    return AuditEvent.objects.filter(outcome=Outcome.DENIED).count()


def _refused_everywhere(person, why: str) -> None:
    """Every case route, read or posted to, answers the refusal page saying
    ``why``, and writes exactly one "denied" event."""
    client = verified_client_for(person)
    problems = []
    for route in CASE_ROUTES:
        for method in ("get", "post"):
            before = _denials()
            response = getattr(client, method)(route.url)
            page = response.content.decode()
            if response.status_code != 403 or why not in page:
                problems.append((str(route), method, response.status_code))
            elif _denials() - before != 1:
                problems.append((str(route), method, "audit", _denials() - before))
    assert problems == []


class TestRouteCoverage:
    def test_every_view_of_a_case_app_sits_behind_the_gate(self):
        """A case view routed outside the gated namespaces would escape it."""
        escaped = [
            str(r)
            for r in ROUTES
            if getattr(r.callback, "__module__", "").startswith(CASE_APPS)
            and r not in CASE_ROUTES
        ]
        assert escaped == []
        assert len(CASE_ROUTES) > 25


class TestShutOut:
    def test_a_late_party_is_refused_every_case_route(self, settings):
        _, _, organisations, _ = agreement_tree()
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        person = UserFactory(organisation=organisations[0], roles=["Referrers"])
        _refused_everywhere(person, "has not acknowledged version 1.0")

    def test_an_organisation_outside_the_isa_is_refused_every_case_route(self):
        _, isa, organisations, coordinator = agreement_tree()
        acknowledge(isa.latest_version, organisations[0])
        outsider = OrganisationFactory(party=False)
        person = UserFactory(organisation=outsider, roles=["Referrers"])
        # Even with a case of its own and one shared with it.
        submitted_referral(person)
        partner = UserFactory(organisation=organisations[0], roles=["Referrers"])
        share(submitted_referral(partner), outsider)
        _refused_everywhere(person, "is not a party to the current version")

    def test_nobody_but_coordinators_sees_case_material_without_an_isa(self):
        person = UserFactory(
            organisation=OrganisationFactory(party=False), roles=["Referrers"]
        )
        _refused_everywhere(person, "No Information Sharing Agreement is in force")

    def test_a_withdrawn_organisation_cannot_sign_in_or_keep_a_session(self):
        _, isa, organisations, _ = agreement_tree()
        acknowledge(isa.latest_version, organisations[0])
        person = UserFactory(organisation=organisations[0], roles=["Referrers"])
        client = verified_client_for(person)
        assert client.get(reverse("referrals:index")).status_code == 200
        organisations[0].active = False
        organisations[0].save()
        request = RequestFactory().post(reverse("accounts:login"))
        signed_in = PartnerBackend().authenticate(
            request, username=person.username, password=TEST_PASSWORD
        )
        assert signed_in is None
        login = reverse("accounts:login")
        for route in CASE_ROUTES:
            response = client.get(route.url)
            assert response.status_code == 302, route
            assert response["Location"].startswith(login), route


class TestLetIn:
    def test_a_party_that_acknowledged_gets_its_pages(self):
        _, isa, organisations, _ = agreement_tree()
        acknowledge(isa.latest_version, organisations[0])
        person = UserFactory(organisation=organisations[0], roles=["Referrers"])
        client = verified_client_for(person)
        for name in ("referrals:index", "meetings:index", "documents:index"):
            assert client.get(reverse(name)).status_code == 200, name
        assert _denials() == 0
        assert 'href="/referrals/"' in client.get("/").content.decode()

    def test_a_coordinator_gets_case_pages_with_no_isa(self):
        coordinator = UserFactory(
            organisation=OrganisationFactory(party=False), roles=["Coordinators"]
        )
        client = verified_client_for(coordinator)
        for name in ("referrals:index", "meetings:index", "documents:index"):
            assert client.get(reverse(name)).status_code == 200, name


class TestNotFoundIsAudited:
    def test_every_404_on_a_case_route_writes_one_denied_event(self):
        """Sample ids point at nothing: each 404 is a refusal, audited once."""
        _, isa, organisations, _ = agreement_tree()
        acknowledge(isa.latest_version, organisations[0])
        person = UserFactory(organisation=organisations[0], roles=["Referrers"])
        client = verified_client_for(person)
        seen = 0
        for route in CASE_ROUTES:
            before = _denials()
            response = client.get(route.url)
            if response.status_code == 404:
                seen += 1
                assert _denials() - before == 1, route
        assert seen > 10

    def test_another_agencys_referral_is_a_404_with_a_denied_event(self):
        _, isa, organisations, _ = agreement_tree()
        for organisation in organisations[:2]:
            acknowledge(isa.latest_version, organisation)
        theirs = submitted_referral(
            UserFactory(organisation=organisations[1], roles=["Referrers"])
        )
        person = UserFactory(organisation=organisations[0], roles=["Referrers"])
        response = verified_client_for(person).get(theirs.get_absolute_url())
        assert response.status_code == 404
        event = AuditEvent.objects.get(outcome=Outcome.DENIED)
        assert event.action == "case_material.not_found"
        assert event.actor == person
        assert event.detail["route"] == "referrals:detail"
