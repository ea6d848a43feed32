"""Every account change writes exactly one chained audit event, naming who made
it, wherever it is made: a service, the Wagtail admin, a job or a command."""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.audit_actions import OrganisationChange, UserChange
from accounts.changes import changes_made_by
from accounts.models import Role, User, role_group
from accounts.services import devices_remove
from audit.audit_actions import AuthAction
from audit.models import AuditEvent
from audit.services import audit_chain_verify
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    organisation = OrganisationFactory()
    other = OrganisationFactory()
    person = UserFactory(organisation=organisation, roles=[Role.REFERRER])
    TOTPDeviceFactory(user=person)
    colleague = UserFactory(organisation=organisation, roles=[Role.SIGNATORY])
    return {
        "organisation": organisation,
        "other": other,
        "person": person,
        "colleague": colleague,
    }


def _create(w):
    UserFactory(organisation=w["organisation"])


def _add_role(w):
    w["person"].groups.add(role_group(Role.SIGNATORY))


def _add_role_from_the_group(w):
    role_group(Role.EDITOR).user_set.add(w["person"])


def _remove_role(w):
    w["person"].groups.remove(role_group(Role.REFERRER))


def _set_roles(w):
    # Adds one and removes one: two changes, one event each (two kinds).
    w["person"].groups.set([role_group(Role.EDITOR)])


def _clear_roles(w):
    w["person"].groups.clear()


def _deactivate(w):
    w["person"].is_active = False
    w["person"].save()


def _activate(w):
    _deactivate(w)
    w["person"].is_active = True
    w["person"].save()


def _suspend(w):
    person = w["person"]
    person.is_active = False
    person.suspension_reason = "dormant"
    person.suspended_at = timezone.now()
    person.save()


def _move(w):
    w["person"].organisation = w["other"]
    w["person"].save()


def _make_administrator(w):
    w["person"].is_superuser = True
    w["person"].save()


def _reset_second_factor(w):
    devices_remove(user=w["person"])


def _change_contact(w):
    w["organisation"].single_point_of_contact = w["colleague"]
    w["organisation"].save()


def _deactivate_organisation(w):
    w["organisation"].active = False
    w["organisation"].save()


def _activate_organisation(w):
    w["other"].active = False
    w["other"].save(update_fields=["active"])
    w["other"].active = True
    w["other"].save(update_fields=["active"])


def _create_organisation(w):
    OrganisationFactory(party=False)


def _delete(w):
    UserFactory(organisation=w["organisation"]).delete()


CHANGES = [
    (_create, [UserChange.CREATED]),
    (_add_role, [UserChange.ROLES_ADDED]),
    (_add_role_from_the_group, [UserChange.ROLES_ADDED]),
    (_remove_role, [UserChange.ROLES_REMOVED]),
    (_set_roles, [UserChange.ROLES_REMOVED, UserChange.ROLES_ADDED]),
    (_clear_roles, [UserChange.ROLES_REMOVED]),
    (_deactivate, [UserChange.DEACTIVATED]),
    (_activate, [UserChange.DEACTIVATED, UserChange.ACTIVATED]),
    (_suspend, [UserChange.SUSPENDED]),
    (_move, [UserChange.ORGANISATION_CHANGED]),
    (_make_administrator, [UserChange.ROLES_ADDED]),
    (_reset_second_factor, [AuthAction.DEVICE_REMOVED]),
    (_change_contact, [OrganisationChange.CONTACT_CHANGED]),
    (_deactivate_organisation, [OrganisationChange.DEACTIVATED]),
    (
        _activate_organisation,
        [OrganisationChange.DEACTIVATED, OrganisationChange.ACTIVATED],
    ),
    (_create_organisation, [OrganisationChange.CREATED]),
    (_delete, [UserChange.CREATED, UserChange.DELETED]),
]


def _events_after(last_id):
    return list(AuditEvent.objects.filter(id__gt=last_id).order_by("id"))


@pytest.mark.parametrize(
    ("change", "expected"), CHANGES, ids=[c.__name__.strip("_") for c, _ in CHANGES]
)
def test_each_change_writes_exactly_one_chained_event(world, change, expected):
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    change(world)
    events = _events_after(last or 0)
    # Anything else recorded (sign-ins, reads) would be a second event.
    assert [e.action for e in events] == [str(a) for a in expected]
    assert audit_chain_verify().intact
    for event in events:
        assert event.detail.get("via") or event.action == AuthAction.DEVICE_REMOVED


def test_a_save_that_changes_nothing_tracked_writes_nothing(world):
    last = AuditEvent.objects.order_by("-id").first().id
    person = world["person"]
    person.job_title = "Team leader"
    person.save()
    person.last_login = timezone.now()
    person.save(update_fields=["last_login"])
    person.groups.add(role_group(Role.REFERRER))  # already held
    person.groups.remove(role_group(Role.EDITOR))  # never held
    assert _events_after(last) == []


def test_events_name_ids_and_roles_never_names(world):
    last = AuditEvent.objects.order_by("-id").first().id
    _set_roles(world)
    _move(world)
    for event in _events_after(last):
        text = str(event.detail)
        assert world["person"].last_name not in text
        assert world["person"].email not in text
        assert event.object_id == str(world["person"].pk)
    removed, added, moved = _events_after(last)
    assert removed.detail["roles"] == [Role.REFERRER.value]
    assert added.detail["roles"] == [Role.EDITOR.value]
    assert moved.detail == {
        "from": world["organisation"].pk,
        "to": world["other"].pk,
        "via": "system",
    }


def test_a_job_names_itself_and_no_actor(world):
    last = AuditEvent.objects.order_by("-id").first().id
    with changes_made_by(via="job:recertify_accounts"):
        _deactivate(world)
    (event,) = _events_after(last)
    assert event.actor is None
    assert event.detail["via"] == "job:recertify_accounts"


def test_a_change_on_someones_behalf_names_them(world):
    last = AuditEvent.objects.order_by("-id").first().id
    with changes_made_by(via="portal", actor=world["colleague"]):
        _deactivate(world)
    (event,) = _events_after(last)
    assert event.actor == world["colleague"]


def test_a_command_names_itself(world, monkeypatch):
    monkeypatch.setattr("sys.argv", ["manage.py", "shell"])
    last = AuditEvent.objects.order_by("-id").first().id
    _deactivate(world)
    (event,) = _events_after(last)
    assert event.detail["via"] == "command:shell"


def test_a_request_names_the_signed_in_person(world):
    from accounts.middleware import current_request

    administrator = UserFactory(organisation=None, is_superuser=True)
    request = RequestFactory().post("/admin/users/1/", REMOTE_ADDR="192.0.2.7")
    request.user = administrator
    token = current_request.set(request)
    try:
        last = AuditEvent.objects.order_by("-id").first().id
        _deactivate(world)
    finally:
        current_request.reset(token)
    (event,) = _events_after(last)
    assert event.actor == administrator
    assert event.ip_address == "192.0.2.7"
    assert event.detail["via"] == "admin"


class TestThroughTheWagtailAdmin:
    """The admin's own user and organisation screens are covered too."""

    def _administrator(self):
        administrator = UserFactory(organisation=None, is_superuser=True, is_staff=True)
        return administrator, verified_client_for(administrator)

    def test_editing_a_user_records_each_change_once_with_the_administrator(
        self, world
    ):
        administrator, client = self._administrator()
        person = world["person"]
        last = AuditEvent.objects.order_by("-id").first().id
        response = client.post(
            reverse("wagtailusers_users:edit", args=[person.pk]),
            {
                "username": person.username,
                "email": person.email,
                "first_name": person.first_name,
                "last_name": person.last_name,
                "organisation": world["other"].pk,
                "job_title": "",
                "is_active": "",
                "groups": [role_group(Role.SIGNATORY).pk],
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        events = [
            e
            for e in _events_after(last)
            if e.action.startswith("user.") and e.object_id == str(person.pk)
        ]
        assert sorted(e.action for e in events) == sorted(
            [
                UserChange.ORGANISATION_CHANGED,
                UserChange.DEACTIVATED,
                UserChange.ROLES_REMOVED,
                UserChange.ROLES_ADDED,
            ]
        )
        assert {e.actor_id for e in events} == {administrator.pk}
        assert {e.detail["via"] for e in events} == {"admin"}

    def test_the_contact_of_another_organisation_is_refused(self, world):
        _, client = self._administrator()
        organisation = world["organisation"]
        outsider = UserFactory(organisation=world["other"])
        response = client.post(
            reverse("accounts_organisation_modeladmin_edit", args=[organisation.pk]),
            {
                "name": organisation.name,
                "slug": organisation.slug,
                "type": organisation.type,
                "single_point_of_contact": outsider.pk,
                "active": "on",
            },
        )
        assert response.status_code == 400
        assert "Choose someone who works for this organisation" in (
            response.content.decode()
        )
        organisation.refresh_from_db()
        assert organisation.single_point_of_contact_id is None

    def test_the_contact_cannot_be_deactivated_until_replaced(self, world):
        organisation = world["organisation"]
        organisation.single_point_of_contact = world["colleague"]
        organisation.save()
        _, client = self._administrator()
        colleague = world["colleague"]
        response = client.post(
            reverse("wagtailusers_users:edit", args=[colleague.pk]),
            {
                "username": colleague.username,
                "email": colleague.email,
                "first_name": colleague.first_name,
                "last_name": colleague.last_name,
                "organisation": organisation.pk,
                "is_active": "",
                "groups": [role_group(Role.SIGNATORY).pk],
            },
        )
        assert "choose another contact for it first" in response.content.decode()
        colleague.refresh_from_db()
        assert colleague.is_active


def test_reactivating_clears_the_suspension(world):
    person = world["person"]
    _suspend(world)
    person.is_active = True
    person.save()
    person.refresh_from_db()
    assert (person.suspension_reason, person.suspended_at) == ("", None)
    assert User.objects.get(pk=person.pk).is_active
