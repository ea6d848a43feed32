"""The 72-hour clock for deciding on telling the ICO, with time travel: a
reminder when 24 hours are left, and another once the time has passed, each
sent once, and none once the decision is recorded."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from incidents.models import DecisionKind, EventKind, Incident
from incidents.services import clock_reminders_send, decision_record, incident_report
from jobs.models import OutgoingEmail
from jobs.schedule import JOBS

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(reporter, coordinator, dpo):
    return incident_report(
        user=reporter,
        what_happened="A pack left on a train.",
        discovered_at=timezone.now() - timedelta(hours=1),
    )


def _emails(incident, event):
    return OutgoingEmail.objects.filter(event=f"incident:{incident.pk}:{event}")


class TestClock:
    def test_no_reminder_before_24_hours_are_left(self, incident):
        just_before = (
            incident.discovered_at + timedelta(hours=48) - timedelta(minutes=1)
        )
        assert clock_reminders_send(now=just_before) == {"reminded": 0, "overdue": 0}
        assert not _emails(incident, "reminder").exists()

    def test_a_reminder_at_24_hours_left_then_overdue_each_once(
        self, incident, coordinator, dpo
    ):
        at_24_left = incident.discovered_at + timedelta(hours=48)
        assert clock_reminders_send(now=at_24_left) == {"reminded": 1, "overdue": 0}
        assert clock_reminders_send(now=at_24_left) == {"reminded": 0, "overdue": 0}
        reminders = _emails(incident, "reminder")
        assert sorted(reminders.values_list("to", flat=True)) == sorted(
            [coordinator.email, dpo.email]
        )
        assert "train" not in reminders.first().body
        incident.refresh_from_db()
        assert not incident.is_overdue(now=at_24_left)

        at_deadline = incident.ico_deadline
        assert clock_reminders_send(now=at_deadline)["overdue"] == 0
        after = at_deadline + timedelta(minutes=1)
        assert clock_reminders_send(now=after) == {"reminded": 0, "overdue": 1}
        assert clock_reminders_send(now=after) == {"reminded": 0, "overdue": 0}
        assert _emails(incident, "overdue").count() == 2
        incident = Incident.objects.get(pk=incident.pk)
        assert incident.is_overdue(now=after)
        kinds = [e.kind for e in incident.timeline.all()]
        assert kinds == [EventKind.REPORTED, EventKind.REMINDER, EventKind.OVERDUE]
        assert (
            AuditEvent.objects.filter(action="incident.deadline_reminded").count() == 1
        )
        assert AuditEvent.objects.filter(action="incident.deadline_passed").count() == 1

    def test_an_incident_reported_late_gets_only_the_overdue_email(self, reporter):
        late = incident_report(
            user=reporter,
            what_happened="Found in an old inbox.",
            discovered_at=timezone.now() - timedelta(hours=100),
        )
        assert clock_reminders_send() == {"reminded": 0, "overdue": 1}
        assert clock_reminders_send() == {"reminded": 0, "overdue": 0}
        late.refresh_from_db()
        assert late.reminded_at is None and late.overdue_at is not None

    def test_the_ico_decision_stops_the_clock(self, incident, coordinator):
        decision_record(
            incident=incident,
            user=coordinator,
            kind=DecisionKind.ICO,
            decision="not_notify",
            reasons="Unlikely to result in a risk: encrypted and recovered.",
        )
        later = incident.discovered_at + timedelta(hours=100)
        assert clock_reminders_send(now=later) == {"reminded": 0, "overdue": 0}
        assert not Incident.objects.get(pk=incident.pk).is_overdue(now=later)

    def test_the_job_is_on_the_schedule(self, incident):
        assert "send_incident_reminders" in JOBS
        call_command("send_incident_reminders", stdout=open("/dev/null", "w"))  # noqa: SIM115
