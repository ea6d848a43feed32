"""Managing organisations, users and second factors in the Wagtail admin."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.models import User
from audit.models import AuditEvent
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    return verified_client_for(UserFactory(is_superuser=True, organisation=None))


@pytest.fixture
def coordinator_client():
    return verified_client_for(UserFactory(roles=["Coordinators"]))


def _new_user_form(**overrides):
    data = {
        "username": "new.person",
        "email": "new.person@example.org",
        "first_name": "New",
        "last_name": "Person",
        "password1": "a-long-enough-passphrase",
        "password2": "a-long-enough-passphrase",
        "is_active": "on",
        "groups": [Group.objects.get(name="Referrers").pk],
        "job_title": "Tenancy officer",
    }
    data.update(overrides)
    return data


class TestUserManagement:
    def test_administrator_adds_a_partner_user_with_organisation_and_role(
        self, admin_client
    ):
        organisation = OrganisationFactory()
        response = admin_client.post(
            reverse("wagtailusers_users:add"),
            _new_user_form(organisation=organisation.pk),
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        person = User.objects.get(username="new.person")
        assert person.organisation == organisation
        assert person.job_title == "Tenancy officer"
        assert person.role_names == {"Referrers"}

    def test_user_without_an_organisation_is_refused_with_a_reason(self, admin_client):
        response = admin_client.post(
            reverse("wagtailusers_users:add"), _new_user_form()
        )
        assert response.status_code == 400
        assert "Choose the organisation this person works for" in (
            response.content.decode()
        )
        assert not User.objects.filter(username="new.person").exists()

    def test_coordinator_cannot_manage_users_or_groups(self, coordinator_client):
        for url in (
            reverse("wagtailusers_users:index"),
            reverse("wagtailusers_users:add"),
            reverse("wagtailusers_groups:index"),
        ):
            response = coordinator_client.get(url)
            assert response.status_code in (302, 403), url
            if response.status_code == 302:
                assert response["Location"] == reverse("wagtailadmin_home")

    def test_coordinator_sees_the_organisations(self, coordinator_client):
        organisation = OrganisationFactory(name="Riverside Housing Trust")
        response = coordinator_client.get("/admin/accounts/organisation/")
        assert response.status_code == 200
        assert organisation.name in response.content.decode()

    def test_referrer_has_no_admin(self, verified_client):
        response = verified_client.get(reverse("wagtailadmin_home"))
        assert response.status_code in (302, 403)


class TestSecondFactorReset:
    def test_administrator_resets_a_lost_phone(self, admin_client, user):
        url = reverse("accounts_reset_second_factor", args=[user.pk])
        page = admin_client.get(url)
        assert user.username in page.content.decode()
        phone = verified_client_for(user)
        response = admin_client.post(url)
        assert response.status_code == 302
        assert not user.totpdevice_set.exists()
        # Their open sessions end; next sign-in asks them to set up an app.
        assert phone.get("/account/")["Location"].startswith(reverse("accounts:login"))

    def test_only_administrators_may_reset(self, coordinator_client, user):
        url = reverse("accounts_reset_second_factor", args=[user.pk])
        assert coordinator_client.post(url).status_code in (302, 403)
        assert user.totpdevice_set.exists()

    def test_reset_button_is_offered_in_the_user_list(self, admin_client, user):
        page = admin_client.get(reverse("wagtailusers_users:index")).content.decode()
        assert reverse("accounts_reset_second_factor", args=[user.pk]) in page


class TestAuditLogScreen:
    def test_administrator_reads_the_log_and_the_reading_is_recorded(
        self, admin_client
    ):
        response = admin_client.get("/admin/audit/auditevent/")
        assert response.status_code == 200
        assert AuditEvent.objects.filter(action="audit.log_viewed").count() == 1

    def test_nobody_can_add_edit_or_delete_events(self, admin_client):
        event = AuditEvent.objects.order_by("id").last()
        assert admin_client.get("/admin/audit/auditevent/create/").status_code in (
            302,
            403,
            404,
        )
        for action in ("edit", "delete"):
            url = f"/admin/audit/auditevent/{action}/{event.pk}/"
            assert admin_client.get(url).status_code in (302, 403, 404), url

    def test_coordinator_cannot_read_the_log(self, coordinator_client):
        response = coordinator_client.get("/admin/audit/auditevent/")
        assert response.status_code in (302, 403)


class TestModelAdminHistoryIsClosed:
    """wagtail-modeladmin's history view checks no permission; ours are off."""

    @pytest.mark.parametrize(
        "prefix", ["/admin/audit/auditevent/", "/admin/accounts/organisation/"]
    )
    def test_history_pages_do_not_exist(self, coordinator_client, admin_client, prefix):
        event = AuditEvent.objects.order_by("id").first()
        for client in (coordinator_client, admin_client):
            response = client.get(f"{prefix}history/{event.pk}/")
            assert response.status_code == 404
