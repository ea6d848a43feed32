"""Unusual activity alerts: thresholds just under and just over, evidence,
notification, idempotence, and turning an alert into an incident."""

from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent, Outcome
from audit.services import audit_record
from incidents.alerts import alerts_raise, out_of_hours
from incidents.models import Alert, AlertKind, Incident
from jobs.models import OutgoingEmail
from jobs.schedule import JOBS
from tests.conftest import verified_client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# A Wednesday, 10:00 local time: inside working hours.
WEDNESDAY = timezone.make_aware(datetime(2026, 11, 4, 10, 0))


@pytest.fixture(autouse=True)
def thresholds(settings):
    settings.ALERT_DENIALS_COUNT = 5
    settings.ALERT_DENIALS_MINUTES = 60
    settings.ALERT_BULK_DOWNLOADS_COUNT = 4
    settings.ALERT_BULK_DOWNLOADS_MINUTES = 10
    settings.ALERT_OUT_OF_HOURS_COUNT = 2
    settings.ALERT_PACK_DOWNLOADS_COUNT = 3
    settings.ALERT_PACK_DOWNLOADS_HOURS = 24
    settings.WORKING_HOURS_START = 8
    settings.WORKING_HOURS_END = 18


def _events(person, action, times, outcome=Outcome.SUCCESS) -> list[int]:
    ids = []
    for at in times:
        with mock.patch("django.utils.timezone.now", return_value=at):
            ids.append(
                audit_record(action=action, actor=person, outcome=outcome, detail={}).pk
            )
    return ids


def _every(start, minutes, count):
    return [start + timedelta(minutes=minutes * i) for i in range(count)]


def _denials(person, count, start=WEDNESDAY, minutes=5):
    return _events(
        person,
        "case_material.not_found",
        _every(start, minutes, count),
        outcome=Outcome.DENIED,
    )


class TestManyDenials:
    def test_one_under_the_threshold_raises_nothing(self, coordinator):
        _denials(UserFactory(), 4)
        assert alerts_raise(now=WEDNESDAY + timedelta(hours=1)) == []

    def test_the_threshold_within_the_window_raises_one_alert_with_evidence(
        self, coordinator, dpo
    ):
        person = UserFactory()
        ids = _denials(person, 5)
        [alert] = alerts_raise(now=WEDNESDAY + timedelta(hours=1))
        assert alert.kind == AlertKind.DENIALS
        assert alert.user == person
        assert alert.count == 5 and alert.event_ids == ids
        assert alert.first_at == WEDNESDAY
        emails = OutgoingEmail.objects.filter(event=f"alert:{alert.pk}")
        assert sorted(emails.values_list("to", flat=True)) == sorted(
            [coordinator.email, dpo.email]
        )
        body = emails.first().body
        assert f"User id {person.pk}: 5 events" in body
        assert ", ".join(map(str, ids)) in body
        assert person.last_name not in body and person.username not in body
        raised = AuditEvent.objects.get(action="incident.alert_raised")
        assert raised.detail["first_id"] == ids[0] and raised.detail["count"] == 5

    def test_the_same_count_spread_over_more_than_the_window_raises_nothing(
        self, coordinator
    ):
        _denials(UserFactory(), 5, minutes=16)  # 64 minutes from first to last
        assert alerts_raise(now=WEDNESDAY + timedelta(hours=2)) == []

    def test_running_again_raises_nothing_twice(self, coordinator):
        _denials(UserFactory(), 5)
        later = WEDNESDAY + timedelta(hours=1)
        assert len(alerts_raise(now=later)) == 1
        assert alerts_raise(now=later) == []
        assert alerts_raise(now=later + timedelta(minutes=15)) == []
        assert Alert.objects.count() == 1
        emails = OutgoingEmail.objects.filter(event__startswith="alert:")
        assert emails.count() == 1

    def test_new_evidence_raises_a_new_alert(self, coordinator):
        person = UserFactory()
        _denials(person, 5)
        alerts_raise(now=WEDNESDAY + timedelta(hours=1))
        _denials(person, 5, start=WEDNESDAY + timedelta(hours=2))
        [second] = alerts_raise(now=WEDNESDAY + timedelta(hours=3))
        assert second.first_at == WEDNESDAY + timedelta(hours=2)

    def test_two_people_each_under_the_threshold_raise_nothing(self, coordinator):
        _denials(UserFactory(), 3)
        _denials(UserFactory(), 3)
        assert alerts_raise(now=WEDNESDAY + timedelta(hours=1)) == []


class TestDownloads:
    def test_bulk_downloads_just_under_and_just_over(self, coordinator):
        under, over = UserFactory(), UserFactory()
        _events(under, "document.downloaded", _every(WEDNESDAY, 2, 3))
        _events(over, "referral.attachment_downloaded", _every(WEDNESDAY, 2, 4))
        alerts = alerts_raise(now=WEDNESDAY + timedelta(hours=1))
        assert [(a.kind, a.user) for a in alerts] == [(AlertKind.BULK_DOWNLOADS, over)]

    def test_a_refused_download_is_not_a_download(self, coordinator):
        _events(
            UserFactory(),
            "document.downloaded",
            _every(WEDNESDAY, 1, 4),
            outcome=Outcome.DENIED,
        )
        kinds = {a.kind for a in alerts_raise(now=WEDNESDAY + timedelta(hours=1))}
        assert AlertKind.BULK_DOWNLOADS not in kinds

    def test_downloads_outside_working_hours(self, coordinator):
        friday = WEDNESDAY + timedelta(days=2)
        saturday = friday + timedelta(days=1)
        in_hours, one_late, two_late = UserFactory(), UserFactory(), UserFactory()
        _events(in_hours, "meeting.minutes_downloaded", [friday.replace(hour=12)] * 2)
        _events(one_late, "meeting.minutes_downloaded", [friday.replace(hour=19)])
        _events(two_late, "document.downloaded", [friday.replace(hour=18), saturday])
        alerts = alerts_raise(now=saturday + timedelta(hours=1))
        late = [a for a in alerts if a.kind == AlertKind.OUT_OF_HOURS]
        assert [(a.user, a.count) for a in late] == [(two_late, 2)]
        assert alerts_raise(now=saturday + timedelta(hours=1)) == []

    def test_working_hours_are_working_days_between_the_hours_set(self):
        assert not out_of_hours(WEDNESDAY.replace(hour=8, minute=0))
        assert not out_of_hours(WEDNESDAY.replace(hour=17, minute=59))
        assert out_of_hours(WEDNESDAY.replace(hour=7, minute=59))
        assert out_of_hours(WEDNESDAY.replace(hour=18, minute=0))
        assert out_of_hours(WEDNESDAY + timedelta(days=4))  # Sunday, 10:00

    def test_one_person_downloading_many_packs(self, coordinator):
        under, over = UserFactory(), UserFactory()
        hours = [WEDNESDAY + timedelta(hours=h) for h in (0, 3, 6)]
        _events(under, "meeting.pack_downloaded", hours[:2])
        _events(over, "meeting.pack_downloaded", hours)
        alerts = alerts_raise(now=WEDNESDAY + timedelta(hours=7))
        packs = [a for a in alerts if a.kind == AlertKind.PACK_DOWNLOADS]
        assert [(a.user, a.count) for a in packs] == [(over, 3)]


class TestAlertPages:
    def test_an_alert_becomes_an_incident_with_one_click_once(self, coordinator):
        _denials(UserFactory(), 5)
        [alert] = alerts_raise(now=WEDNESDAY + timedelta(hours=1))
        client = verified_client_for(coordinator)
        listing = client.get(reverse("incidents:alerts")).content.decode()
        assert alert.reference in listing
        page = client.get(alert.get_absolute_url()).content.decode()
        assert "Open an incident from this alert" in page
        url = reverse("incidents:alert_to_incident", args=[alert.pk])
        first = client.post(url)
        incident = Incident.objects.get()
        assert first["Location"] == incident.get_absolute_url()
        assert alert.reference in incident.what_happened
        assert incident.discovered_at == alert.raised_at
        assert client.post(url)["Location"] == incident.get_absolute_url()
        assert Incident.objects.count() == 1
        alert.refresh_from_db()
        assert alert.incident == incident

    def test_nobody_else_sees_alerts(self, coordinator, reporter):
        _denials(UserFactory(), 5)
        [alert] = alerts_raise(now=WEDNESDAY + timedelta(hours=1))
        client = verified_client_for(reporter)
        assert client.get(reverse("incidents:alerts")).status_code == 404
        assert client.get(alert.get_absolute_url()).status_code == 404
        url = reverse("incidents:alert_to_incident", args=[alert.pk])
        assert client.post(url).status_code == 404
        assert not Incident.objects.exists()

    def test_the_job_is_on_the_schedule(self):
        assert "raise_activity_alerts" in JOBS
        call_command("raise_activity_alerts", stdout=open("/dev/null", "w"))  # noqa: SIM115
