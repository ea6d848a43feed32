"""Every refused (403) or not-found (404) request to a case route, walked
from the URL resolver, is audited once with outcome "denied", naming the
route, the ids in its address and the status, and nothing else
(agreements.middleware; docs/security.md, "Refusals are audited").
"""

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import resolve

from agreements.middleware import CaseMaterialGateMiddleware
from audit.models import AuditEvent, Outcome
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.referrals import submitted_referral

from .routes import all_routes

ROUTES, _ = all_routes()
AUDITED_ROUTES = [
    r
    for r in ROUTES
    if r.level == "verified"
    and r.name.split(":")[0] in django_settings.DENIAL_AUDITED_NAMESPACES
]

pytestmark = pytest.mark.django_db


def _denied_since(first_id: int):
    return AuditEvent.objects.filter(pk__gt=first_id, outcome=Outcome.DENIED)


def _last_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


class TestEveryCaseRoute:
    def test_the_walk_covers_every_case_namespace(self):
        namespaces = {r.name.split(":")[0] for r in AUDITED_ROUTES}
        assert namespaces == set(django_settings.DENIAL_AUDITED_NAMESPACES)
        assert len(AUDITED_ROUTES) > 30

    def test_each_refusal_is_one_denied_event_with_route_ids_and_status(self):
        person = UserFactory(roles=["Referrers"])
        client = verified_client_for(person)
        problems, refused = [], 0
        for route in AUDITED_ROUTES:
            for method in ("get", "post"):
                before = _last_id()
                response = getattr(client, method)(route.url)
                events = list(_denied_since(before))
                if response.status_code not in (403, 404):
                    if events:
                        problems.append((str(route), method, "audited", len(events)))
                    continue
                refused += 1
                if len(events) != 1:
                    problems.append((str(route), method, "events", len(events)))
                    continue
                event = events[0]
                match = resolve(route.url)
                expected_ids = {k: str(v) for k, v in match.kwargs.items()}
                if (
                    event.detail.get("route") != route.name
                    or event.detail.get("status") != response.status_code
                    or event.detail.get("object_ids", {}) != expected_ids
                    or event.actor_id != person.pk
                ):
                    problems.append((str(route), method, event.detail))
        assert problems == []
        # Sample ids point at nothing: most case routes refuse them.
        assert refused > 30


class TestWhatTheEventHolds:
    def test_another_agencys_referral_is_filed_under_its_reference(self):
        theirs = submitted_referral(UserFactory(roles=["Referrers"]))
        person = UserFactory(roles=["Referrers"])
        response = verified_client_for(person).get(theirs.get_absolute_url())
        assert response.status_code == 404
        event = AuditEvent.objects.get(outcome=Outcome.DENIED)
        assert event.object_id == theirs.reference
        assert event.detail == {
            "route": "referrals:detail",
            "status": 404,
            "object_ids": {"reference": theirs.reference},
        }

    def test_a_name_typed_into_the_address_is_kept_only_as_a_hash(self):
        person = UserFactory(roles=["Referrers"])
        response = verified_client_for(person).get("/referrals/Jane%20Doe/")
        assert response.status_code == 404
        event = AuditEvent.objects.get(outcome=Outcome.DENIED)
        assert event.detail["object_ids"]["reference"].startswith("hmac:")
        assert event.object_id == ""
        assert "Jane" not in event.canonical()

    def test_a_403_from_a_case_view_is_audited_as_forbidden(self):
        person = UserFactory(roles=["Referrers"])
        url = "/referrals/CM-2026-0001/"
        request = RequestFactory().get(url)
        request.user = person
        request.resolver_match = resolve(url)
        middleware = CaseMaterialGateMiddleware(
            lambda request: HttpResponse(status=403)
        )
        assert middleware(request).status_code == 403
        event = AuditEvent.objects.get(outcome=Outcome.DENIED)
        assert event.action == "case_material.forbidden"
        assert event.detail["status"] == 403
        assert event.object_id == "CM-2026-0001"

    def test_a_page_that_is_served_writes_no_denial(self):
        person = UserFactory(roles=["Referrers"])
        mine = submitted_referral(person)
        response = verified_client_for(person).get(mine.get_absolute_url())
        assert response.status_code == 200
        assert not AuditEvent.objects.filter(outcome=Outcome.DENIED).exists()
