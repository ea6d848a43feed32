"""Reporting a suspected data incident, who sees it, the notification
decisions, and triage (docs/features.md, "Incidents")."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, Outcome
from incidents.models import (
    DecisionKind,
    EventKind,
    Incident,
    IncidentCase,
    IncidentFile,
    Status,
)
from incidents.services import decision_record, incident_report
from jobs.models import OutgoingEmail
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.documents import shared
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db

WHAT = "I emailed the minutes for Orchard Court to the wrong address."


def _report_data(day=None, **extra) -> dict:
    day = day or timezone.localdate()
    return {
        "what_happened": WHAT,
        "discovered_on_0": str(day.day),
        "discovered_on_1": str(day.month),
        "discovered_on_2": str(day.year),
        "discovered_time": "",
        **extra,
    }


def _reported(reporter, **options) -> Incident:
    return incident_report(
        user=reporter,
        what_happened=WHAT,
        discovered_at=options.pop("discovered_at", timezone.now()),
        **options,
    )


class TestReporting:
    def test_a_referrer_reports_naming_cases_and_files_they_can_see(
        self, reporter, coordinator, dpo
    ):
        mine = submitted_referral(reporter)
        other = submitted_referral(UserFactory(organisation=reporter.organisation,
                                               roles=["Referrers"]))  # fmt: skip
        files = shared(reporter, [coordinator.organisation])
        client = verified_client_for(reporter)
        page = client.get(reverse("incidents:report") + f"?case={mine.reference}")
        assert page.status_code == 200
        assert f'value="{mine.reference}" checked' in page.content.decode()
        response = client.post(
            reverse("incidents:report"),
            _report_data(
                cases=[mine.reference],
                other_cases=other.reference.lower(),
                files=[str(files.public_id)],
                discovered_time="09:15",
                day=timezone.localdate() - timedelta(days=1),
            ),
        )
        incident = Incident.objects.get()
        assert response.status_code == 302
        assert response["Location"] == incident.get_absolute_url()
        assert incident.reference.startswith(f"INC-{timezone.localdate().year}-")
        assert incident.reported_by == reporter
        assert incident.organisation == reporter.organisation
        assert incident.status == Status.REPORTED and incident.severity == ""
        assert timezone.localtime(incident.discovered_at).strftime("%H:%M") == "09:15"
        assert incident.ico_deadline == incident.discovered_at + timedelta(hours=72)
        assert sorted(IncidentCase.objects.values_list("reference", flat=True)) == (
            sorted([mine.reference, other.reference])
        )
        assert IncidentFile.objects.get().share == files
        assert [e.kind for e in incident.timeline.all()] == [EventKind.REPORTED]
        event = AuditEvent.objects.get(action="incident.reported")
        assert event.detail["reference"] == incident.reference
        assert WHAT not in event.canonical()

    def test_the_dpo_and_coordinators_get_a_reference_and_link_only(
        self, reporter, coordinator, dpo
    ):
        incident = _reported(reporter)
        emails = OutgoingEmail.objects.filter(event=f"incident:{incident.pk}:reported")
        assert sorted(emails.values_list("to", flat=True)) == sorted(
            [coordinator.email, dpo.email]
        )
        for email in emails:
            assert incident.reference in email.subject
            assert incident.get_absolute_url() in email.body
            assert "Orchard" not in email.body and reporter.last_name not in email.body

    def test_a_case_the_reporter_cannot_see_is_refused_and_nothing_is_lost(
        self, reporter
    ):
        theirs = submitted_referral(UserFactory(roles=["Referrers"]))
        client = verified_client_for(reporter)
        response = client.post(
            reverse("incidents:report"),
            _report_data(other_cases=theirs.reference),
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "govuk-error-summary" in page
        assert f"You cannot name {theirs.reference}" in page
        assert WHAT in page  # what was typed is kept
        assert not Incident.objects.exists()
        # The same words as for a reference that does not exist.
        response = client.post(
            reverse("incidents:report"), _report_data(other_cases="CM-1999-9999")
        )
        assert "You cannot name CM-1999-9999: check the reference" in (
            response.content.decode()
        )

    def test_a_case_not_offered_cannot_be_posted_as_a_choice(self, reporter):
        submitted_referral(reporter)  # so that the form offers cases
        theirs = submitted_referral(UserFactory(roles=["Referrers"]))
        response = verified_client_for(reporter).post(
            reverse("incidents:report"), _report_data(cases=[theirs.reference])
        )
        assert response.status_code == 400
        assert not Incident.objects.exists()

    def test_a_discovery_in_the_future_is_refused(self, reporter):
        tomorrow = timezone.localdate() + timedelta(days=1)
        response = verified_client_for(reporter).post(
            reverse("incidents:report"), _report_data(day=tomorrow)
        )
        assert response.status_code == 400
        assert "must be today or in the past" in response.content.decode()

    def test_the_footer_and_case_page_link_to_the_report_form(self, reporter):
        mine = submitted_referral(reporter)
        client = verified_client_for(reporter)
        assert reverse("incidents:report") in client.get("/").content.decode()
        case_page = client.get(mine.get_absolute_url()).content.decode()
        assert f"{reverse('incidents:report')}?case={mine.reference}" in case_page


class TestWhoSeesWhat:
    def test_a_reporter_sees_only_their_own_incidents(self, reporter):
        mine = _reported(reporter)
        colleague = UserFactory(organisation=reporter.organisation, roles=["Referrers"])
        theirs = _reported(colleague)
        client = verified_client_for(reporter)
        listing = client.get(reverse("incidents:index")).content.decode()
        assert mine.reference in listing and theirs.reference not in listing
        assert client.get(mine.get_absolute_url()).status_code == 200
        assert client.get(theirs.get_absolute_url()).status_code == 404

    def test_another_agency_sees_nothing_and_the_refusal_is_audited(self, reporter):
        incident = _reported(reporter)
        outsider = UserFactory(roles=["Referrers"])
        client = verified_client_for(outsider)
        assert (
            incident.reference
            not in client.get(reverse("incidents:index")).content.decode()
        )
        assert client.get(incident.get_absolute_url()).status_code == 404
        denied = AuditEvent.objects.get(outcome=Outcome.DENIED)
        assert denied.detail["route"] == "incidents:detail"
        assert denied.object_id == incident.reference

    def test_only_coordinators_and_the_dpo_triage_decide_and_contain(
        self, reporter, coordinator, dpo
    ):
        incident = _reported(reporter)
        paths = [
            reverse("incidents:triage", args=[incident.reference]),
            reverse("incidents:decision", args=[incident.reference, "ico"]),
            reverse("incidents:contain", args=[incident.reference, "deactivate-user"]),
            reverse("incidents:alerts"),
        ]
        reporter_client = verified_client_for(reporter)
        for path in paths:
            assert reporter_client.get(path).status_code == 404, path
            assert reporter_client.post(path, {}).status_code == 404, path
        page = reporter_client.get(incident.get_absolute_url()).content.decode()
        assert "Set severity and status" not in page
        for handler in (coordinator, dpo):
            client = verified_client_for(handler)
            assert client.get(incident.get_absolute_url()).status_code == 200
            for path in paths:
                assert client.get(path).status_code == 200, (handler, path)


class TestTriageAndDecisions:
    def test_severity_and_status_go_on_the_timeline_and_the_audit(self, reporter, dpo):
        incident = _reported(reporter)
        response = verified_client_for(dpo).post(
            reverse("incidents:triage", args=[incident.reference]),
            {"severity": "high", "status": "investigating"},
        )
        assert response.status_code == 302
        incident.refresh_from_db()
        assert (incident.severity, incident.status) == ("high", "investigating")
        assert [e.summary for e in incident.timeline.all()][1:] == [
            "Severity set to high",
            "Status changed to investigating",
        ]
        event = AuditEvent.objects.get(action="incident.triaged")
        assert event.actor == dpo
        assert event.detail["to"] == {"severity": "high", "status": "investigating"}

    def test_closing_needs_both_decisions(self, reporter, coordinator):
        incident = _reported(reporter)
        client = verified_client_for(coordinator)
        url = reverse("incidents:triage", args=[incident.reference])
        refused = client.post(url, {"severity": "low", "status": "closed"})
        assert refused.status_code == 400
        assert "before closing the incident" in refused.content.decode()
        for kind in ("ico", "people-affected"):
            client.post(
                reverse("incidents:decision", args=[incident.reference, kind]),
                {
                    "decision": "not_notify",
                    "reasons": "Recalled unread within the hour.",
                },
            )
        assert client.post(
            url, {"severity": "low", "status": "closed"}
        ).status_code == (302)
        incident.refresh_from_db()
        assert incident.status == Status.CLOSED

    def test_the_ico_decision_is_recorded_with_reasons_who_when_and_reference(
        self, reporter, coordinator
    ):
        incident = _reported(reporter)
        client = verified_client_for(coordinator)
        url = reverse("incidents:decision", args=[incident.reference, "ico"])
        refused = client.post(url, {"decision": "notify", "ico_reference": "IC-1"})
        assert refused.status_code == 400
        assert "Enter the reasons for the decision" in refused.content.decode()
        assert 'value="IC-1"' in refused.content.decode()
        response = client.post(
            url,
            {
                "decision": "notify",
                "reasons": "Health details of two people were sent outside.",
                "ico_reference": "IC-123456",
            },
        )
        assert response.status_code == 302
        decision = incident.ico_decision()
        assert decision.decision == "notify"
        assert decision.decided_by == coordinator
        assert decision.ico_reference == "IC-123456"
        assert decision.decided_at is not None
        incident = Incident.objects.get()
        assert not incident.clock_running()
        assert incident.clock_text() == "Decided"
        timeline = [e.summary for e in incident.timeline.all()]
        assert "Decided to tell the ICO (ICO reference IC-123456)" in timeline
        event = AuditEvent.objects.get(action="incident.decision_recorded")
        assert event.detail == {
            "reference": incident.reference,
            "kind": "ico",
            "to": "notify",
        }

    def test_the_data_subjects_decision_has_no_ico_reference(
        self, reporter, coordinator
    ):
        incident = _reported(reporter)
        decision = decision_record(
            incident=incident,
            user=coordinator,
            kind=DecisionKind.DATA_SUBJECTS,
            decision="not_notify",
            reasons="Low risk: the recipient is a partner and deleted it.",
            ico_reference="ignored",
        )
        assert decision.ico_reference == ""
        assert incident.subjects_decision() == decision
        assert incident.clock_running()  # only the ICO decision stops it


class TestTheIncidentPage:
    def test_the_deadline_shows_time_left_and_overdue_is_highlighted(
        self, reporter, coordinator
    ):
        on_time = _reported(reporter, discovered_at=timezone.now() - timedelta(hours=2))
        late = _reported(reporter, discovered_at=timezone.now() - timedelta(hours=80))
        client = verified_client_for(coordinator)
        page = client.get(on_time.get_absolute_url()).content.decode()
        assert "69 hours" in page and "left" in page
        assert "Overdue" not in page
        page = client.get(late.get_absolute_url()).content.decode()
        assert "Overdue: the 72 hours to decide whether to tell the ICO ended" in page
        assert "govuk-tag--red" in page
        listing = client.get(reverse("incidents:index")).content.decode()
        assert "Overdue by 8 hours" in listing
        assert AuditEvent.objects.filter(action="read", object_id=late.pk).exists()
