"""Search: guidance and agreements for every verified person; referrals by
reference or name for coordinators only; nothing anyone may not see."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from wagtail.documents import get_document_model
from wagtail.models import PageViewRestriction

from accounts.models import Role, role_group
from audit.models import AuditEvent
from home.models import HomePage, MeetingResourcesPage
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.agreements import agreement_tree, clause
from tests.factories.guidance import guidance
from tests.factories.referrals import complete_answers, person, submitted_referral

pytestmark = pytest.mark.django_db


def _search(user, query) -> str:
    response = verified_client_for(user).get(reverse("search"), {"q": query})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def cases():
    referrer = UserFactory(roles=[Role.REFERRER])
    referral = submitted_referral(
        referrer, people=[person(0, name="Morgan O'Leary-Smith")]
    )
    return referrer, referral


class TestGuidanceAndAgreements:
    def test_guidance_is_found_by_words_in_its_body(self):
        guidance(title="Consent", body=[("text", "<p>Ask about cuckooing.</p>")])
        guidance(title="Before a panel", body=[("text", "<p>Bring your actions.</p>")])
        html = _search(UserFactory(roles=[Role.REFERRER]), "cuckooing")
        assert ">Consent</a>" in html
        assert ">Before a panel</a>" not in html
        assert "1 result for" in html

    def test_agreements_are_found(self):
        agreement_tree(searchable=True)
        html = _search(UserFactory(roles=[Role.SIGNATORY]), "CMARAC ISA")
        assert ">CMARAC ISA</a>" in html

    def test_unpublished_and_restricted_pages_are_not_found(self):
        guidance(title="Draft on cuckooing", publish=False)
        hidden = guidance(title="Coordinators on cuckooing")
        restriction = PageViewRestriction.objects.create(
            page=hidden, restriction_type=PageViewRestriction.GROUPS
        )
        restriction.groups.set([])
        html = _search(UserFactory(roles=[Role.REFERRER]), "cuckooing")
        assert "Draft on cuckooing" not in html
        assert "Coordinators on cuckooing" not in html

    def test_no_results_says_what_to_try(self):
        html = _search(UserFactory(roles=[Role.REFERRER]), "zzzzqqq")
        assert "0 results for" in html
        assert "Check your spelling" in html


class TestReferrals:
    @pytest.mark.parametrize(
        "query", ["Morgan O'Leary-Smith", "oleary morgan", "SMITH", "{reference}"]
    )
    def test_coordinators_find_a_referral_by_name_or_reference(self, cases, query):
        _, referral = cases
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        html = _search(coordinator, query.format(reference=referral.reference))
        assert f">{referral.reference}</a>" in html
        event = AuditEvent.objects.get(action="search", actor=coordinator)
        assert event.detail["referrals"] == [referral.reference]

    def test_the_referring_agency_cannot_search_cases(self, cases):
        referrer, referral = cases
        html = _search(referrer, referral.reference)
        assert f">{referral.reference}</a>" not in html
        assert "0 results for" in html
        assert "O&#x27;Leary" not in _search(referrer, "Morgan")

    def test_a_name_that_matches_nobody_finds_nothing(self, cases):
        html = _search(UserFactory(roles=[Role.COORDINATOR]), "Morgan Jones")
        assert "0 results for" in html

    def test_anonymous_people_are_sent_to_sign_in(self, client, cases):
        response = client.get(reverse("search"), {"q": "Morgan"})
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/")


def test_complete_answers_factory_takes_people():
    # Guard for the fixture above: the name really is on the referral.
    assert complete_answers(people=[person(0, name="X Y")])["people"]


class TestCaseMaterialClosed:
    """Search applies the agreement's rule (docs/features.md, "Agreements")."""

    def test_a_coordinator_outside_the_isa_finds_no_referrals(self, cases):
        _, referral = cases
        coordinator = UserFactory(roles=[Role.COORDINATOR], organisation__party=False)
        agreement_tree(organisations=[referral.organisation])
        html = _search(coordinator, referral.reference)
        assert f">{referral.reference}</a>" not in html
        assert "Morgan" not in html


class TestWordsInsideAgreementsAndMeetingResources:
    """Search reads the published text, not only titles (issue 24)."""

    def test_a_word_only_in_a_clause_finds_the_agreement(self):
        agreement_tree(searchable=True)
        html = _search(UserFactory(roles=[Role.REFERRER]), "closure")
        assert ">CMARAC ISA</a>" in html
        assert ">Protocol</a>" not in html

    def test_a_word_only_in_an_unpublished_draft_is_not_found(self):
        _, isa, _, coordinator = agreement_tree(searchable=True)
        draft = isa.get_latest_revision_as_object()
        draft.clauses = [clause("Extra", "Shredded by zebrafinch.")]
        draft.next_version, draft.change_summary = "1.1", "Adds a clause."
        draft.save_revision(user=coordinator)
        html = _search(UserFactory(roles=[Role.REFERRER]), "zebrafinch")
        assert "0 results for" in html

    def test_a_title_search_still_works(self):
        _meeting_resources()
        html = _search(UserFactory(roles=[Role.REFERRER]), "Meeting resources")
        assert ">Meeting resources</a>" in html

    def test_a_word_in_the_meeting_resources_body_finds_them(self):
        _meeting_resources()
        html = _search(UserFactory(roles=[Role.REFERRER]), "apologies")
        assert ">Meeting resources</a>" in html
        html = _search(UserFactory(roles=[Role.REFERRER]), "riskmatrix")
        assert ">Meeting resources</a>" in html

    def test_restricted_meeting_resources_are_found_only_by_those_admitted(self):
        page = _meeting_resources()
        restriction = PageViewRestriction.objects.create(
            page=page, restriction_type=PageViewRestriction.GROUPS
        )
        restriction.groups.set([role_group(Role.COORDINATOR)])
        outsider = _search(UserFactory(roles=[Role.REFERRER]), "apologies")
        assert "Meeting resources</a>" not in outsider
        assert "0 results for" in outsider
        member = _search(UserFactory(roles=[Role.COORDINATOR]), "apologies")
        assert ">Meeting resources</a>" in member

    def test_people_not_signed_in_find_nothing(self, client):
        _meeting_resources()
        response = client.get(reverse("search"), {"q": "apologies"})
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in/")


def _meeting_resources():
    editor = UserFactory(roles=[Role.EDITOR])
    page = MeetingResourcesPage(
        title="Meeting resources",
        slug="meeting-resources",
        body="<p>Send apologies to the coordinator.</p>",
        resources=[
            (
                "document",
                {
                    "document": get_document_model().objects.create(
                        title="Risk guide",
                        file=ContentFile(b"%PDF-1.7 risk", name="risk.pdf"),
                        uploaded_by_user=editor,
                    ),
                    "title": "Risk guide",
                    "description": "Scoring with the riskmatrix.",
                },
            )
        ],
        owner=editor,
    )
    HomePage.objects.get().add_child(instance=page)
    coordinator = UserFactory(roles=[Role.COORDINATOR])
    page.save_revision(user=editor).publish(user=coordinator)
    return page
