"""Containment actions from the incident page: each goes through the service
that owns the rule, is linked to the incident on its timeline, and is
audited, by that service and as a containment of the incident."""

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import BackupCodeDevice
from accounts.services import backup_codes_generate
from audit.models import AuditEvent
from documents.models import Share
from incidents.models import EventKind, IncidentEvent
from incidents.services import incident_report
from referrals.models import ReferralShare
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.documents import shared
from tests.factories.referrals import share, submitted_referral

pytestmark = pytest.mark.django_db

WHY = "Sent to the wrong agency by mistake."


def _incident(reporter, **links):
    return incident_report(
        user=reporter,
        what_happened="Wrong recipient.",
        discovered_at=timezone.now(),
        **links,
    )


def _contain(client, incident, slug, target) -> object:
    return client.post(
        reverse("incidents:contain", args=[incident.reference, slug]),
        {"target": target, "reason": WHY},
    )


def _linked(incident) -> IncidentEvent:
    return IncidentEvent.objects.get(incident=incident, kind=EventKind.CONTAINMENT)


def _containment_audited(incident, kind, target) -> None:
    event = AuditEvent.objects.get(action="incident.containment_taken")
    assert event.detail == {
        "reference": incident.reference,
        "kind": kind,
        "target": str(target),
    }
    assert event.object_id == str(incident.pk)


class TestContainment:
    def test_recall_a_file_share(self, reporter, coordinator):
        files = shared(reporter, [OrganisationFactory()])
        incident = _incident(reporter, shares=[files])
        response = _contain(
            verified_client_for(coordinator), incident, "recall-files", files.public_id
        )
        assert response.status_code == 302
        files = Share.objects.get(pk=files.pk)
        assert files.recalled_at is not None and files.recalled_by == coordinator
        assert incident.reference in files.recall_reason
        link = _linked(incident)
        assert link.file_share == files and link.containment == "recall_files"
        assert link.actor == coordinator
        assert AuditEvent.objects.filter(action="document.recalled").count() == 1
        _containment_audited(incident, "recall_files", files.public_id)
        # The page shows it on the timeline.
        page = verified_client_for(coordinator).get(incident.get_absolute_url())
        assert "Recalled Files from" in page.content.decode()

    def test_end_an_organisations_access_to_a_case(self, reporter, coordinator):
        case = submitted_referral(reporter)
        access = share(case, OrganisationFactory())
        incident = _incident(reporter, referrals=[case])
        response = _contain(
            verified_client_for(coordinator), incident, "end-case-access", access.pk
        )
        assert response.status_code == 302
        access = ReferralShare.objects.get(pk=access.pk)
        assert access.ended_at is not None and access.ended_by == coordinator
        assert _linked(incident).case_share == access
        assert AuditEvent.objects.filter(action="referral.share_ended").count() == 1
        _containment_audited(incident, "end_case_share", access.pk)

    def test_deactivate_a_user_keeping_the_audit(self, reporter, coordinator):
        suspect = UserFactory(roles=["Referrers"])
        incident = _incident(reporter)
        response = _contain(
            verified_client_for(coordinator), incident, "deactivate-user", suspect.pk
        )
        assert response.status_code == 302
        suspect.refresh_from_db()
        assert not suspect.is_active
        assert _linked(incident).person == suspect
        assert suspect.suspension_reason == "incident"
        event = AuditEvent.objects.get(action="user.suspended")
        assert event.actor == coordinator and event.object_id == str(suspect.pk)
        _containment_audited(incident, "deactivate_user", suspect.pk)

    def test_reset_a_users_second_factor(self, reporter, coordinator):
        suspect = UserFactory(roles=["Referrers"])
        TOTPDeviceFactory(user=suspect)
        backup_codes_generate(user=suspect)
        incident = _incident(reporter)
        response = _contain(
            verified_client_for(coordinator),
            incident,
            "reset-second-factor",
            suspect.pk,
        )
        assert response.status_code == 302
        assert not TOTPDevice.objects.filter(user=suspect).exists()
        assert not BackupCodeDevice.objects.filter(user=suspect).exists()
        assert _linked(incident).person == suspect
        event = AuditEvent.objects.get(action="auth.device_removed")
        assert event.actor == coordinator
        _containment_audited(incident, "reset_second_factor", suspect.pk)

    def test_a_share_not_linked_to_the_incident_is_not_offered(
        self, reporter, coordinator
    ):
        unrelated = shared(reporter, [OrganisationFactory()])
        incident = _incident(reporter)
        client = verified_client_for(coordinator)
        page = client.get(
            reverse("incidents:contain", args=[incident.reference, "recall-files"])
        )
        assert "There is nothing to act on for this incident." in page.content.decode()
        response = _contain(client, incident, "recall-files", unrelated.public_id)
        assert response.status_code == 400
        assert Share.objects.get(pk=unrelated.pk).recalled_at is None
        assert not IncidentEvent.objects.filter(kind=EventKind.CONTAINMENT).exists()

    def test_a_refusal_keeps_what_was_typed(self, reporter, coordinator):
        suspect = UserFactory(roles=["Referrers"])
        incident = _incident(reporter)
        response = verified_client_for(coordinator).post(
            reverse("incidents:contain", args=[incident.reference, "deactivate-user"]),
            {"target": "", "reason": WHY},
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "Select the person" in page and WHY in page
        suspect.refresh_from_db()
        assert suspect.is_active

    def test_nobody_deactivates_themselves(self, reporter, coordinator):
        incident = _incident(reporter)
        response = _contain(
            verified_client_for(coordinator),
            incident,
            "deactivate-user",
            coordinator.pk,
        )
        assert response.status_code == 400
        coordinator.refresh_from_db()
        assert coordinator.is_active
