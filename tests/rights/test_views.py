"""The data protection officer's screens: who gets them, what they show, and
that every read is audited without the words searched for."""

import json

import pytest
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent, Outcome
from audit.privacy import search_term_digest
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.documents import shared, upload
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import person
from tests.factories.referrals import submitted_referral as submitted
from tests.portal.routes import all_routes

pytestmark = pytest.mark.django_db

NAME = "Wilhelmina Grisedale"
ROUTES = [r for r in all_routes()[0] if r.name.startswith("rights:")]


@pytest.fixture
def officer():
    return UserFactory(roles=[Role.DPO], organisation=OrganisationFactory())


@pytest.fixture
def case():
    return submitted(people=[person(0, name=NAME, phone="07700 900 733")])


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


class TestOfficerOnly:
    def test_the_rights_routes_are_found_in_the_resolver(self):
        assert {r.name for r in ROUTES} == {
            "rights:home",
            "rights:people",
            "rights:record",
            "rights:sars",
            "rights:sar_new",
            "rights:sar",
            "rights:sar_identity",
            "rights:sar_extend",
            "rights:sar_status",
            "rights:sar_search",
            "rights:sar_item",
            "rights:sar_bundle",
            "rights:sar_bundle_download",
            "rights:requests",
            "rights:request_new",
            "rights:request",
        }

    @pytest.mark.parametrize(
        "roles",
        [
            [Role.REFERRER],
            [Role.COORDINATOR],
            [Role.COORDINATOR, Role.SIGNATORY],
            [Role.SIGNATORY],
            [Role.EDITOR],
            None,  # an administrator (superuser) without the role
        ],
        ids=["referrer", "coordinator", "coordinator-signatory", "signatory",
             "editor", "administrator"],
    )  # fmt: skip
    def test_everyone_else_is_refused_every_route_and_it_is_audited(self, roles, case):
        if roles is None:
            person_ = UserFactory(organisation=None, is_superuser=True, is_staff=True)
        else:
            person_ = UserFactory(roles=roles)
        client = verified_client_for(person_)
        urls = [r.url for r in ROUTES] + [
            reverse("rights:record", args=["referral", case.pk]),
            reverse("rights:people") + f"?q={NAME}",
        ]
        for url in urls:
            for method in ("get", "post"):
                before = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
                response = getattr(client, method)(url)
                assert response.status_code == 403, (url, method)
                assert NAME not in response.content.decode()
                denied = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
                assert denied == before + 1, (url, method)
        assert not AuditEvent.objects.filter(
            action__in=["rights.people_searched", "rights.record_viewed"]
        ).exists()

    def test_the_officer_gets_every_page(self, officer, case):
        client = verified_client_for(officer)
        for route in ROUTES:
            assert client.get(route.url).status_code in {200, 404}, route
        assert client.get(reverse("rights:home")).status_code == 200
        assert client.get(reverse("rights:people")).status_code == 200


class TestSearchPage:
    def test_finds_the_case_and_audits_records_not_words(self, officer, case):
        client = verified_client_for(officer)
        response = client.get(reverse("rights:people"), {"q": "W Grisedale"})
        page = response.content.decode()
        assert response.status_code == 200
        assert f"Case {case.reference}" in page
        assert "People, person 1" in page
        assert reverse("rights:record", args=["referral", case.pk]) in page
        [event] = _events("rights.people_searched")
        stored = json.dumps(event.detail)
        assert "grisedale" not in stored.casefold()
        assert event.detail["query_hmac"] == search_term_digest("W Grisedale")
        assert event.detail["records"] == [f"referrals.referral:{case.pk}"]
        assert event.detail["count"] >= 1
        assert event.actor == officer

    def test_an_empty_query_is_refused_with_the_error_by_the_field(self, officer):
        client = verified_client_for(officer)
        for typed in ("", "   ", "?!", "j"):
            response = client.get(reverse("rights:people"), {"q": typed})
            page = response.content.decode()
            assert response.status_code == 400, typed
            assert "govuk-error-summary" in page
            assert 'href="#id_q"' in page
            assert "govuk-error-message" in page
        assert all(
            e.outcome == Outcome.FAILURE for e in _events("rights.people_searched")
        )

    def test_nothing_found_says_what_to_try(self, officer, case):
        client = verified_client_for(officer)
        response = client.get(reverse("rights:people"), {"q": "Nobody Atall"})
        assert response.status_code == 200
        assert "Nothing held matches" in response.content.decode()


class TestRecordPage:
    def test_each_kind_of_record_opens_read_only_and_is_audited(self, officer, case):
        boss = coordinator()
        referral = accepted(case, boss)
        police = OrganisationFactory(name="Police")
        item = on_agenda(meeting(boss), referral, [police], boss)
        item.discussion = f"{NAME} was seen."
        item.save()
        share = shared(
            referral.referrer, [], referral=referral,
            files=[upload(f"Letter to {NAME}.pdf")], note=f"For {NAME}",
        )  # fmt: skip
        records = {
            "referral": referral.pk,
            "agenda-item": item.pk,
            "meeting": item.meeting_id,
            "share": share.pk,
            "shared-file": share.files.get().pk,
        }
        client = verified_client_for(officer)
        for kind, pk in records.items():
            response = client.get(reverse("rights:record", args=[kind, pk]))
            assert response.status_code == 200, kind
            main = response.content.decode().split("<main")[1].split("</main>")[0]
            assert "<form" not in main, kind
        page = client.get(reverse("rights:record", args=["referral", referral.pk]))
        assert NAME in page.content.decode()
        assert "Audit events about this record" in page.content.decode()
        viewed = _events("rights.record_viewed")
        assert [(e.object_type, e.object_id) for e in viewed][0] == (
            "referrals.referral",
            str(referral.pk),
        )
        assert len(viewed) == len(records) + 1

    def test_unknown_kinds_and_records_are_not_found(self, officer):
        client = verified_client_for(officer)
        assert client.get("/rights/records/x/1/").status_code == 404
        assert client.get("/rights/records/referral/999999/").status_code == 404


class TestWayIn:
    def test_the_menu_and_home_page_offer_it_to_the_officer_alone(self, officer):
        from tests.portal.test_menu import menu_links

        assert "/rights/" in menu_links(verified_client_for(officer))
        home = verified_client_for(officer).get("/").content.decode()
        assert reverse("rights:people") in home
        for roles in ([Role.COORDINATOR], [Role.REFERRER], [Role.EDITOR]):
            client = verified_client_for(UserFactory(roles=roles))
            assert "/rights/" not in menu_links(client), roles
            assert "/rights/" not in client.get("/").content.decode(), roles
