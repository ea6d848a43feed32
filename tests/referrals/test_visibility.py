"""Who can open which referral page, for every referral route in the resolver.

Three organisations: A refers, B is invited to a meeting that has the case on
its agenda (a share), C has nothing to do with it. Every role at each, plus a
coordinator and an administrator. A route added later under /referrals/ that
takes a reference or a draft id joins the matrix without anyone remembering.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent
from referrals.services import attachment_add, referral_submit
from tests.conftest import verified_client_for
from tests.factories import UserFactory, three_agencies
from tests.factories.agreements import agreement_tree, signatory_for
from tests.factories.documents import PDF
from tests.factories.referrals import complete_answers, complete_draft, person, share
from tests.portal.routes import all_routes, route_params
from tests.shared_setup import read_again, rolled_back_after_module

pytestmark = pytest.mark.django_db

ROUTES, _ = all_routes()
CASE_ROUTES = [r for r in ROUTES if r.pattern.startswith("referrals/<str:reference>")]
DRAFT_ROUTES = [r for r in ROUTES if "<uuid:draft_id>" in r.pattern]
POST_ONLY = {
    "referrals:change_status",
    "referrals:answer",
    "referrals:remove_attachment",
    "referrals:free_text_review",
    "referrals:withdraw",
    "referrals:add_note",
}

VICTIM_PHONE = "07700 900 982"
WITNESS_NAME = "Wendy Witness"


def test_the_matrix_covers_every_referral_route():
    names = {r.name for r in CASE_ROUTES + DRAFT_ROUTES}
    assert {
        "referrals:detail",
        "referrals:submitted",
        "referrals:pdf",
        "referrals:attachment",
        "referrals:change_status",
        "referrals:answer",
        "referrals:task_list",
        "referrals:section",
        "referrals:check",
        "referrals:delete_draft",
        "referrals:remove_attachment",
        "referrals:access_grant",
        "referrals:access_change",
        "referrals:sharing_without_consent",
        "referrals:free_text_review",
        "referrals:hold_place",
        "referrals:restrict",
        "referrals:restriction_lift",
        "referrals:amend_choose",
        "referrals:amend",
    } <= names
    referral_routes = {r.name for r in ROUTES if r.pattern.startswith("referrals/")}
    # The rest take no case: the list, starting a draft, and the coordinators'
    # retention page with its holds (tests/referrals/test_retention.py).
    assert referral_routes - names == {
        "referrals:index",
        "referrals:start",
        "referrals:retention",
        "referrals:hold_remove",
    }


def _pdf_upload():
    return SimpleUploadedFile("risk.pdf", PDF, "application/pdf")


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker):
    """Made once for the module: about half a second of setup that every test
    here needs. Each test's own changes are rolled back after it."""
    with rolled_back_after_module(django_db_blocker):
        yield _world_made()


@pytest.fixture
def world(_world, db):
    return read_again(_world)


def _world_made():
    people = three_agencies()
    b = people[("B", "Referrer")].organisation
    author = people[("A", "Referrer")]
    answers = complete_answers(
        people=[person(0), person(1, role="witness", name=WITNESS_NAME)],
        do_not_disclose=True,
        anonymous_source=True,
    )
    draft = complete_draft(author, answers)
    attachment_add(draft=draft, upload=_pdf_upload(), user=author)
    referral, _ = referral_submit(draft=draft, user=author)
    share(referral, b)
    open_draft = complete_draft(author)
    attachment = attachment_add(draft=open_draft, upload=_pdf_upload(), user=author)
    return {
        "people": people,
        "referral": referral,
        "draft": open_draft,
        "draft_attachment": attachment,
    }


def _may_see_referral(key) -> bool:
    org, role = key
    return role == "Coordinator" or (role == "Referrer" and org in "AB")


# Routes narrower than seeing the referral.
def _coordinator(key) -> bool:
    return key[1] == "Coordinator"


def _sees_everything(key) -> bool:
    org, role = key
    return role == "Coordinator" or (role == "Referrer" and org == "A")


# The world's referral is marked "do not disclose", so its file is kept to the
# referring agency and coordinators.
NARROWER = {
    "referrals:change_status": _coordinator,
    "referrals:access_grant": _coordinator,
    "referrals:access_change": _coordinator,
    "referrals:sharing_without_consent": _coordinator,
    "referrals:free_text_review": _coordinator,
    "referrals:hold_place": _coordinator,
    "referrals:restrict": _coordinator,
    "referrals:restriction_lift": _coordinator,
    "referrals:amend_choose": _coordinator,
    "referrals:amend": _coordinator,
    "referrals:attachment": _sees_everything,
}


def _case_url(route, world) -> str:
    referral = world["referral"]
    kwargs = {"reference": referral.reference}
    if "attachment_id" in route.pattern:
        kwargs["attachment_id"] = referral.attachments.get().pk
    if "share_id" in route.pattern:
        kwargs["share_id"] = referral.shares.get().pk
    if "<str:answer>" in route.pattern:
        kwargs["answer"] = "people.people.0.phone"
    return reverse(route.name, kwargs=kwargs)


def _draft_url(route, world) -> str:
    kwargs = {"draft_id": world["draft"].public_id}
    if "<slug:slug>" in route.pattern:
        kwargs["slug"] = "people"
    if "attachment_id" in route.pattern:
        kwargs["attachment_id"] = world["draft_attachment"].pk
    return reverse(route.name, kwargs=kwargs)


def _request(client, route, url):
    return client.post(url) if route.name in POST_ONLY else client.get(url)


@pytest.mark.parametrize("route", route_params(CASE_ROUTES))
def test_case_routes_answer_only_those_entitled(route, world):
    for key, user in world["people"].items():
        response = _request(verified_client_for(user), route, _case_url(route, world))
        if NARROWER.get(route.name, _may_see_referral)(key):
            # Let in: the page, a redirect, or (an empty post to a form) the
            # page again with the refusal, 400.
            assert response.status_code in (200, 302, 400), (
                key,
                response.status_code,
            )
            if response.status_code == 302:
                assert "sign-in" not in response["Location"]
        else:
            assert response.status_code == _refused(key), (key, response.status_code)


def _refused(key) -> int:
    """Not found, or (an administrator, in no organisation, so no party to
    the agreement) the agreement's refusal page on every case route."""
    return 403 if key == ("-", "Administrator") else 404


@pytest.mark.parametrize("route", DRAFT_ROUTES, ids=str)
def test_drafts_open_only_to_their_author(route, world):
    author_key = ("A", "Referrer")
    url = _draft_url(route, world)
    for key, user in world["people"].items():
        if key != author_key:
            response = _request(verified_client_for(user), route, url)
            assert response.status_code == _refused(key), (key, response.status_code)
    # Nothing anyone else did touched the draft or its file.
    assert world["draft"].attachments.count() == 1
    response = _request(verified_client_for(world["people"][author_key]), route, url)
    assert response.status_code in (200, 302)


class TestRedaction:
    def _page(self, world, key):
        client = verified_client_for(world["people"][key])
        return client.get(world["referral"].get_absolute_url()).content.decode()

    @pytest.mark.parametrize("key", [("A", "Referrer"), ("C", "Coordinator")])
    def test_referring_organisation_and_coordinators_see_everything(self, world, key):
        page = self._page(world, key)
        assert VICTIM_PHONE in page
        assert WITNESS_NAME in page
        assert "Withheld" not in page

    def test_an_invited_agency_sees_the_case_without_the_flagged_details(self, world):
        page = self._page(world, ("B", "Referrer"))
        assert "Alex Example" in page  # the victim's name is not flagged
        assert VICTIM_PHONE not in page
        assert "Flat 3, 12 Example Road" not in page
        assert WITNESS_NAME not in page
        assert "Withheld: not to be disclosed to the person causing harm" in page
        assert "Withheld: the source wishes to remain anonymous" in page
        assert "History" not in page  # the workflow is between referrer and panel

    def test_the_list_does_not_name_an_anonymous_witness_either(self, world):
        client = verified_client_for(world["people"][("B", "Referrer")])
        page = client.get(reverse("referrals:index")).content.decode()
        assert world["referral"].reference in page
        assert WITNESS_NAME not in page


class TestAuditedReads:
    @pytest.mark.slow
    def test_every_read_of_a_referral_is_in_the_audit_log(self, world):
        referral = world["referral"]
        viewer = world["people"][("B", "Referrer")]
        client = verified_client_for(viewer)
        for name in ("referrals:detail", "referrals:pdf"):
            client.get(reverse(name, args=[referral.reference]))
        client.get(
            reverse(
                "referrals:attachment",
                args=[referral.reference, referral.attachments.get().pk],
            )
        )
        actions = list(
            AuditEvent.objects.filter(
                actor=viewer, object_id__in=[str(referral.pk),
                                             str(referral.attachments.get().pk)]
            ).values_list("action", flat=True)
        )  # fmt: skip
        assert "read" in actions
        assert "referral.pdf_downloaded" in actions
        # The file is kept from B (restricted): the refused download is recorded.
        assert "referral.attachment_download_denied" in actions


class TestAgreementsGate:
    def test_an_organisation_overdue_with_the_isa_sees_no_case_material(self, settings):
        _, _, organisations, _ = agreement_tree()
        signatory_for(organisations[0])
        author = UserFactory(organisation=organisations[0], roles=[Role.REFERRER])
        draft = complete_draft(author)
        referral, _ = referral_submit(draft=draft, user=author)
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        client = verified_client_for(author)
        response = client.get(referral.get_absolute_url())
        assert response.status_code == 403
        assert (
            "Case material is closed to your organisation" in response.content.decode()
        )
        listing = client.get(reverse("referrals:index"))
        assert listing.status_code == 403
        assert referral.reference not in listing.content.decode()
