"""The single point of contact's screens: only the contact of that organisation,
requests for accounts decided by an administrator, and suspension."""

import re

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.urls import reverse

from accounts.audit_actions import GovernanceAction, UserChange
from accounts.models import (
    AccountRequest,
    RequestStatus,
    Role,
    SuspensionReason,
    User,
)
from audit.models import AuditEvent, Outcome
from tests.conftest import verified_client_for
from tests.factories import TEST_PASSWORD, OrganisationFactory, UserFactory
from tests.portal.routes import all_routes

pytestmark = pytest.mark.django_db

ROUTES, _ = all_routes()
CONTACT_ROUTES = [r for r in ROUTES if r.pattern.startswith("accounts/organisation/")]


def committed():
    return TestCase.captureOnCommitCallbacks(execute=True)


@pytest.fixture
def agency():
    """An organisation with its contact and two colleagues, and another
    organisation with its own contact and person."""
    organisation = OrganisationFactory(name="Agency A")
    contact = UserFactory(organisation=organisation, roles=[Role.SIGNATORY])
    organisation.single_point_of_contact = contact
    organisation.save()
    colleague = UserFactory(organisation=organisation, roles=[Role.REFERRER])
    other = OrganisationFactory(name="Agency B")
    other_contact = UserFactory(organisation=other, roles=[Role.SIGNATORY])
    other.single_point_of_contact = other_contact
    other.save()
    outsider = UserFactory(organisation=other, roles=[Role.REFERRER])
    return {
        "organisation": organisation,
        "contact": contact,
        "colleague": colleague,
        "other_contact": other_contact,
        "outsider": outsider,
    }


def _url(route, person_id):
    if "<int:user_id>" in route.pattern:
        return reverse(route.name, kwargs={"user_id": person_id})
    return reverse(route.name)


def test_the_routes_are_found():
    names = {r.name for r in CONTACT_ROUTES}
    assert names == {
        "accounts:organisation",
        "accounts:account_request",
        "accounts:person_suspend",
        "accounts:recertification",
    }


@pytest.mark.parametrize("route", CONTACT_ROUTES, ids=str)
def test_only_the_contact_of_that_organisation_gets_in(agency, route):
    colleague = agency["colleague"]
    url = _url(route, colleague.pk)
    assert verified_client_for(agency["contact"]).get(url).status_code == 200

    # A colleague who is not the contact, and a coordinator, are refused.
    coordinator = UserFactory(roles=[Role.COORDINATOR])
    for person in (colleague, coordinator):
        before = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
        for method in ("get", "post"):
            response = getattr(verified_client_for(person), method)(url)
            assert response.status_code == 403, (person, method)
            assert "single point of contact" in response.content.decode()
        after = AuditEvent.objects.filter(outcome=Outcome.DENIED).count()
        assert after - before == 2

    # Another organisation's contact reaches only their own organisation.
    response = verified_client_for(agency["other_contact"]).get(url)
    if "<int:user_id>" in route.pattern:
        assert response.status_code == 404
    else:
        assert response.status_code == 200
        assert agency["colleague"].last_name not in response.content.decode()


def test_a_contact_whose_organisation_is_inactive_is_refused(agency):
    client = verified_client_for(agency["contact"])
    agency["organisation"].active = False
    agency["organisation"].save()
    assert client.get(reverse("accounts:organisation")).status_code == 302


class TestPeople:
    def test_lists_people_with_roles_and_last_sign_in_and_is_audited(self, agency):
        colleague = agency["colleague"]
        colleague.last_login = "2026-03-04T10:00:00Z"
        colleague.save(update_fields=["last_login"])
        response = verified_client_for(agency["contact"]).get(
            reverse("accounts:organisation")
        )
        page = response.content.decode()
        assert str(colleague) in page
        assert "4 March 2026" in page
        assert "Referrer" in page
        assert agency["outsider"].last_name not in page
        event = AuditEvent.objects.filter(action=GovernanceAction.PEOPLE_VIEWED).get()
        assert event.detail == {"organisation": agency["organisation"].pk, "count": 2}


class TestAccountRequests:
    def _post(self, client, **changes):
        data = {
            "first_name": "Robin",
            "last_name": "Newcomer",
            "email": "robin.newcomer@agency-a.example",
            "job_title": "Caseworker",
            "role": Role.REFERRER.value,
            "reason": "Joins the ASB casework team",
            **changes,
        }
        return client.post(reverse("accounts:account_request"), data)

    def test_bad_input_is_refused_with_400_and_kept(self, agency):
        client = verified_client_for(agency["contact"])
        response = self._post(client, email="not-an-email", role="Coordinators")
        page = response.content.decode()
        assert response.status_code == 400
        assert "There is a problem" in page
        assert "Enter an email address like name@example.org" in page
        assert 'value="Newcomer"' in page
        assert not AccountRequest.objects.exists()

    def test_an_address_already_in_use_is_refused_by_the_field(self, agency):
        client = verified_client_for(agency["contact"])
        response = self._post(client, email=agency["outsider"].email)
        assert response.status_code == 400
        assert "already has an account" in response.content.decode()

    def test_request_then_approval_invites_the_person_who_sets_up_2fa(self, agency):
        administrator = UserFactory(
            organisation=None,
            is_superuser=True,
            is_staff=True,
            email="admin@portal.example",
        )
        client = verified_client_for(agency["contact"])
        with committed():
            response = self._post(client)
        assert response.status_code == 302
        account_request = AccountRequest.objects.get()
        assert account_request.organisation == agency["organisation"]
        (notice,) = [m for m in mail.outbox if m.to == [administrator.email]]
        assert "single point of contact has asked" in notice.body
        assert "Newcomer" not in notice.body + notice.subject

        admin_client = verified_client_for(administrator)
        url = reverse("accounts_account_request_decide", args=[account_request.pk])
        page = admin_client.get(url).content.decode()
        assert 'value="robin.newcomer"' in page
        refused = admin_client.post(url, {"decision": "approve", "username": ""})
        assert refused.status_code == 400
        last = AuditEvent.objects.order_by("-id").first().id
        with committed():
            response = admin_client.post(
                url, {"decision": "approve", "username": "robin.newcomer"}
            )
        assert response.status_code == 302
        person = User.objects.get(username="robin.newcomer")
        assert person.organisation == agency["organisation"]
        assert person.role_names == {Role.REFERRER.value}
        assert not person.has_usable_password()
        account_request.refresh_from_db()
        assert (account_request.status, account_request.user) == (
            RequestStatus.APPROVED,
            person,
        )
        made = AuditEvent.objects.filter(id__gt=last).order_by("id")
        assert [e.action for e in made] == [
            UserChange.CREATED,
            UserChange.ROLES_ADDED,
            GovernanceAction.ACCOUNT_REQUEST_APPROVED,
        ]
        assert {e.actor_id for e in made} == {administrator.pk}

        invitation = next(m for m in mail.outbox if person.email in m.to)
        link = re.search(r"http\S+/invitation/\S+", invitation.body).group(0)
        newcomer = Client()
        path = link.split("://", 1)[1].split("/", 1)[1]
        response = newcomer.get("/" + path, follow=True)
        assert "Choose your password" in response.content.decode()
        form_url = response.redirect_chain[-1][0]
        new_password = "a-long-new-password-2026"
        response = newcomer.post(
            form_url, {"new_password1": new_password, "new_password2": new_password}
        )
        assert response["Location"] == reverse("accounts:verify")
        # No authenticator yet: the gate sends them to set one up.
        response = newcomer.get(reverse("accounts:verify"))
        assert response["Location"].startswith(reverse("accounts:enrol"))
        # The link works once.
        assert (
            "no longer works" in Client().get("/" + path, follow=True).content.decode()
        )

    def test_rejection_tells_the_contact_without_naming_the_person(self, agency):
        administrator = UserFactory(organisation=None, is_superuser=True)
        client = verified_client_for(agency["contact"])
        self._post(client)
        account_request = AccountRequest.objects.get()
        url = reverse("accounts_account_request_decide", args=[account_request.pk])
        admin_client = verified_client_for(administrator)
        assert admin_client.post(url, {"decision": "reject"}).status_code == 400
        with committed():
            admin_client.post(url, {"decision": "reject", "note": "Use a team login"})
        account_request.refresh_from_db()
        assert account_request.status == RequestStatus.REJECTED
        (email,) = [m for m in mail.outbox if m.to == [agency["contact"].email]]
        assert "was not approved" in email.body
        assert "Newcomer" not in email.body
        event = AuditEvent.objects.get(action=GovernanceAction.ACCOUNT_REQUEST_REJECTED)
        assert "Use a team login" not in str(event.detail)
        page = client.get(reverse("accounts:organisation")).content.decode()
        assert "Use a team login" in page

    def test_only_administrators_decide(self, agency):
        client = verified_client_for(agency["contact"])
        self._post(client)
        url = reverse(
            "accounts_account_request_decide", args=[AccountRequest.objects.get().pk]
        )
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        response = verified_client_for(coordinator).post(
            url, {"decision": "approve", "username": "x"}
        )
        assert response.status_code in (302, 403)
        assert AccountRequest.objects.get().status == RequestStatus.PENDING


class TestSuspension:
    def test_the_contact_suspends_a_colleague_who_cannot_sign_in(self, agency):
        colleague = agency["colleague"]
        theirs = verified_client_for(colleague)
        client = verified_client_for(agency["contact"])
        url = reverse("accounts:person_suspend", args=[colleague.pk])
        refused = client.post(url, {"reason": "Left the team"})
        assert refused.status_code == 400
        assert "Confirm that they will not be able to sign in" in (
            refused.content.decode()
        )
        last = AuditEvent.objects.order_by("-id").first().id
        with committed():
            response = client.post(url, {"reason": "Left the team", "confirm": "on"})
        assert response.status_code == 302
        colleague.refresh_from_db()
        assert not colleague.is_active
        assert colleague.suspension_reason == SuspensionReason.BY_CONTACT
        assert colleague.suspension_note == "Left the team"
        (event,) = AuditEvent.objects.filter(id__gt=last)
        assert event.action == UserChange.SUSPENDED
        assert event.actor == agency["contact"]
        assert event.detail["reason"] == SuspensionReason.BY_CONTACT
        assert "Left the team" not in str(event.detail)
        (email,) = [m for m in mail.outbox if m.to == [colleague.email]]
        assert "suspended" in email.subject
        assert "single point of contact" in email.body
        assert agency["contact"].last_name not in email.body

        # Their open session has ended, and signing in says why, plainly.
        assert theirs.get(reverse("accounts:account")).status_code == 302
        response = Client().post(
            reverse("accounts:login"),
            {"username": colleague.username, "password": TEST_PASSWORD},
        )
        page = response.content.decode()
        assert "Your account has been suspended" in page
        assert "single point of contact" in page
        # A wrong password learns nothing.
        response = Client().post(
            reverse("accounts:login"),
            {"username": colleague.username, "password": "wrong-guess"},
        )
        assert "suspended" not in response.content.decode()

    def test_a_contact_cannot_suspend_themselves(self, agency):
        contact = agency["contact"]
        client = verified_client_for(contact)
        url = reverse("accounts:person_suspend", args=[contact.pk])
        response = client.post(url, {"reason": "x", "confirm": "on"})
        assert response.status_code == 400
        assert "cannot suspend your own account" in response.content.decode()
        contact.refresh_from_db()
        assert contact.is_active

    def test_a_suspended_contact_stops_being_the_contact(self, agency):
        from accounts.services import user_suspend

        user_suspend(user=agency["contact"], reason=SuspensionReason.DORMANT)
        agency["organisation"].refresh_from_db()
        assert agency["organisation"].single_point_of_contact is None
        assert AuditEvent.objects.filter(action="organisation.contact_changed").exists()


class TestProgressPage:
    def test_coordinators_see_each_organisation_others_are_refused(self, agency):
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        url = reverse("accounts:recertification_progress")
        page = verified_client_for(coordinator).get(url).content.decode()
        assert "Agency A" in page and "Agency B" in page
        assert verified_client_for(agency["contact"]).get(url).status_code == 403
