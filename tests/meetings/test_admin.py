"""Meetings in the Wagtail admin: the coordinators' lists, scheduling and
changing a meeting through the services, recording progress on an action,
the exports, and everyone else kept out."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from meetings.models import (
    Action,
    ActionStatus,
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
)
from tests.conftest import sign_in_with_password, uncached_queries, verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, meeting, on_agenda
from tests.factories.referrals import submitted_referral

pytestmark = pytest.mark.django_db

MEETINGS_URL = "/admin/meetings/meeting/"
ACTIONS_URL = "/admin/meetings/action/"
ATTENDANCE_URL = "/admin/meetings/attendance/"
INDEX_URLS = (MEETINGS_URL, ACTIONS_URL, ATTENDANCE_URL)


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def listed(response) -> list:
    assert response.status_code == 200
    return list(response.context["object_list"])


def admin_datetime(value: datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def coordinator():
    return UserFactory(roles=[Role.COORDINATOR])


@pytest.fixture
def coordinator_client(coordinator):
    return verified_client_for(coordinator)


@pytest.fixture
def agenda(coordinator):
    """A meeting with one case, inviting a second agency."""
    referral = accepted(submitted_referral(), by=coordinator)
    other = OrganisationFactory(name="Sampleford Fire Service")
    upcoming = meeting(coordinator)
    item = on_agenda(upcoming, referral, [other], by=coordinator)
    return upcoming, item, other


def an_action(item, owner, *, due_days=5, officer="Jo Officer", description=""):
    return Action.objects.create(
        agenda_item=item,
        referral=item.referral,
        owner=owner,
        officer=officer,
        description=description or "Visit and fit a door chain.",
        due=timezone.localdate() + timedelta(days=due_days),
    )


class TestMenu:
    def test_group_is_offered_to_coordinators(self, coordinator_client):
        home = coordinator_client.get(reverse("wagtailadmin_home")).content.decode()
        for url in INDEX_URLS:
            assert url in home


class TestMeetingList:
    def test_columns_and_link_to_the_meeting_page(self, coordinator_client, agenda):
        upcoming, _, _ = agenda
        response = coordinator_client.get(MEETINGS_URL)
        assert listed(response) == [upcoming]
        page = response.content.decode()
        assert "Full meeting" in page and "Planned" in page
        assert upcoming.chair.get_full_name() in page
        assert f'<a href="{upcoming.get_absolute_url()}">Agenda and papers</a>' in page
        assert response.context["object_list"][0].cases == 1

    def test_filters(self, coordinator, coordinator_client, agenda):
        upcoming, _, _ = agenda
        urgent = meeting(coordinator, days_ahead=3, kind="urgent")
        Meeting.objects.filter(pk=urgent.pk).update(status=MeetingStatus.HELD)
        by = lambda **q: listed(coordinator_client.get(MEETINGS_URL, q))  # noqa: E731
        assert by(kind__exact="urgent") == [urgent]
        assert by(kind__exact="full") == [upcoming]
        assert by(status__exact="held") == [urgent]
        assert by(status__exact="planned") == [upcoming]

    def test_queries_do_not_grow_with_rows(self, coordinator, coordinator_client):
        for days in (10, 11):
            meeting(coordinator, days_ahead=days)
        coordinator_client.get(MEETINGS_URL)
        with uncached_queries() as two:
            assert len(listed(coordinator_client.get(MEETINGS_URL))) == 2
        for days in range(12, 20):
            # A different chair each time: the chair's name is a column.
            meeting(UserFactory(roles=[Role.COORDINATOR]), days_ahead=days)
        with uncached_queries() as ten:
            assert len(listed(coordinator_client.get(MEETINGS_URL))) == 10
        assert len(ten) == len(two)

    def test_export(self, coordinator_client, agenda):
        upcoming, _, _ = agenda
        Meeting.objects.filter(pk=upcoming.pk).update(location="=cmd|' /C calc'!A0")
        header, row = csv_rows(coordinator_client.get(MEETINGS_URL, {"export": "csv"}))
        assert header == ["Starts at", "Kind", "Status", "Chair", "Cases", "Location"]
        assert row[0] == admin_datetime(upcoming.starts_at)
        assert row[1:5] == ["Full meeting", "Planned",
                            upcoming.chair.get_full_name(), "1"]  # fmt: skip
        assert row[5] == "'=cmd|' /C calc'!A0"
        event = AuditEvent.objects.get(action="meeting.exported")
        assert event.detail == {"rows": 1, "format": "csv"}


class TestScheduleInTheAdmin:
    def form(self, coordinator, **changes):
        starts = timezone.now() + timedelta(days=20)
        data = {
            "kind": "full",
            "starts_at": admin_datetime(starts),
            "location": "Room 4, Exampleton Library",
            "online_link": "",
            "chair": coordinator.pk,
            "referral_deadline": "",
            "reported_to": "",
        }
        return data | changes

    def test_create_goes_through_the_service(self, coordinator, coordinator_client):
        response = coordinator_client.post(
            f"{MEETINGS_URL}create/", self.form(coordinator)
        )
        created = Meeting.objects.get()
        assert response.status_code == 302
        assert response["Location"] == created.get_absolute_url()
        assert created.location == "Room 4, Exampleton Library"
        # The service fills the deadline in working days before the meeting.
        assert created.referral_deadline < created.day
        assert AuditEvent.objects.filter(action="meeting.scheduled").count() == 1

    def test_needs_a_place_or_a_link(self, coordinator, coordinator_client):
        response = coordinator_client.post(
            f"{MEETINGS_URL}create/", self.form(coordinator, location="  ")
        )
        assert response.status_code == 400  # refused: the form again
        assert "Enter where the meeting is, or its online link" in (
            response.content.decode()
        )
        assert not Meeting.objects.exists()

    def test_chair_must_be_a_coordinator(self, coordinator, coordinator_client):
        referrer = UserFactory(roles=[Role.REFERRER])
        response = coordinator_client.post(
            f"{MEETINGS_URL}create/", self.form(coordinator, chair=referrer.pk)
        )
        assert response.status_code == 400
        assert not Meeting.objects.exists()

    def test_edit_goes_through_the_service(self, coordinator_client, agenda):
        upcoming, _, _ = agenda
        url = f"{MEETINGS_URL}edit/{upcoming.pk}/"
        assert coordinator_client.get(url).status_code == 200
        data = {
            "starts_at": admin_datetime(upcoming.starts_at),
            "location": "",
            "online_link": "https://meet.example.org/cmarac",
            "chair": upcoming.chair_id,
            "referral_deadline": upcoming.referral_deadline.isoformat(),
        }
        response = coordinator_client.post(url, data)
        assert response.status_code == 302
        upcoming.refresh_from_db()
        assert (upcoming.location, upcoming.online_link) == (
            "",
            "https://meet.example.org/cmarac",
        )
        event = AuditEvent.objects.get(action="meeting.changed")
        assert event.detail == {"fields": ["location", "online_link"]}

    def test_edit_refuses_a_held_meeting(self, coordinator_client, agenda):
        upcoming, _, _ = agenda
        Meeting.objects.filter(pk=upcoming.pk).update(status=MeetingStatus.HELD)
        response = coordinator_client.post(
            f"{MEETINGS_URL}edit/{upcoming.pk}/",
            {
                "starts_at": admin_datetime(upcoming.starts_at),
                "location": "Somewhere else",
                "chair": upcoming.chair_id,
                "referral_deadline": upcoming.referral_deadline.isoformat(),
            },
            follow=True,
        )
        assert response.status_code == 200
        assert "cannot be changed" in response.content.decode()
        # Not offered either: the list has no edit link for it.
        listing = coordinator_client.get(MEETINGS_URL).content.decode()
        assert f"{MEETINGS_URL}edit/{upcoming.pk}/" not in listing
        upcoming.refresh_from_db()
        assert upcoming.location == "Committee room 2, Town Hall"

    def test_no_delete_route(self, agenda):
        with pytest.raises(NoReverseMatch):
            reverse("meetings_meeting_modeladmin_delete", args=[1])


class TestActions:
    def test_columns_filters_and_rag(self, coordinator_client, agenda):
        _, item, other = agenda
        late = an_action(item, other, due_days=-2)
        soon = an_action(item, item.referral.organisation, due_days=3)
        done = an_action(item, other, due_days=30)
        Action.objects.filter(pk=done.pk).update(status=ActionStatus.DONE)
        response = coordinator_client.get(ACTIONS_URL)
        assert listed(response) == [late, soon, done]
        page = response.content.decode()
        assert item.referral.reference in page
        assert "Red: overdue" in page and "Amber: due within 7 days" in page
        status = listed(coordinator_client.get(ACTIONS_URL, {"status__exact": "done"}))
        assert status == [done]
        owned = listed(
            coordinator_client.get(ACTIONS_URL, {"owner__id__exact": other.pk})
        )
        assert owned == [late, done]

    def test_export_has_no_descriptions(self, coordinator_client, agenda):
        _, item, other = agenda
        an_action(item, other, due_days=-1, officer="Sam Officerly",
                  description="Visit Alex Example at 1 Example Road")  # fmt: skip
        header, row = csv_rows(coordinator_client.get(ACTIONS_URL, {"export": "csv"}))
        assert header == ["Case reference", "Agreed at meeting", "Owner organisation",
                          "Named officer", "Due", "Status", "RAG"]  # fmt: skip
        assert row[0] == item.referral.reference
        assert row[2:4] == ["Sampleford Fire Service", "Sam Officerly"]
        assert row[5:] == ["Open", "Red: overdue"]
        text = ",".join(row)
        assert "Alex Example" not in text and "Example Road" not in text
        assert AuditEvent.objects.filter(action="meeting_action.exported").exists()

    def test_edit_goes_through_action_update(
        self, coordinator, coordinator_client, agenda
    ):
        _, item, other = agenda
        action = an_action(item, other)
        url = f"{ACTIONS_URL}edit/{action.pk}/"
        assert coordinator_client.get(url).status_code == 200
        response = coordinator_client.post(
            url, {"status": "done", "update": "Door chain fitted on Monday."}
        )
        assert response.status_code == 302
        action.refresh_from_db()
        assert action.status == ActionStatus.DONE
        assert action.updated_by == coordinator
        event = AuditEvent.objects.get(action="meeting.action_updated")
        assert event.detail == {"from": "open", "to": "done"}

    def test_queries_do_not_grow_with_rows(self, coordinator_client, agenda):
        _, item, other = agenda
        for _ in range(2):
            an_action(item, other)
        coordinator_client.get(ACTIONS_URL)
        with uncached_queries() as two:
            assert len(listed(coordinator_client.get(ACTIONS_URL))) == 2
        for _ in range(8):
            an_action(item, OrganisationFactory())
        with uncached_queries() as ten:
            assert len(listed(coordinator_client.get(ACTIONS_URL))) == 10
        assert len(ten) == len(two)


class TestAttendance:
    def test_list_filter_and_export(self, coordinator, coordinator_client, agenda):
        upcoming, _, other = agenda
        earlier = meeting(coordinator, days_ahead=30)
        present = Attendance.objects.create(
            meeting=upcoming,
            organisation=other,
            name="Kit Attendee",
            status=AttendanceStatus.PRESENT,
            confidentiality_confirmed_at=upcoming.starts_at,
        )
        Attendance.objects.create(
            meeting=earlier,
            organisation=other,
            name="Lee Elsewhere",
            status=AttendanceStatus.APOLOGIES,
        )
        response = coordinator_client.get(
            ATTENDANCE_URL, {"meeting__id__exact": upcoming.pk}
        )
        assert listed(response) == [present]
        header, row = csv_rows(
            coordinator_client.get(
                ATTENDANCE_URL, {"export": "csv", "meeting__id__exact": upcoming.pk}
            )
        )
        assert header == ["Meeting", "Organisation", "Name", "Attendance",
                          "Confidentiality confirmed at"]  # fmt: skip
        assert row == [upcoming.day.isoformat(), "Sampleford Fire Service",
                       "Kit Attendee", "Present",
                       admin_datetime(upcoming.starts_at)]  # fmt: skip
        assert AuditEvent.objects.filter(action="meeting_attendance.exported").exists()

    def test_read_only(self, coordinator_client):
        for action in ("create", "edit", "delete"):
            with pytest.raises(NoReverseMatch):
                reverse(
                    f"meetings_attendance_modeladmin_{action}",
                    args=[] if action == "create" else [1],
                )
        assert coordinator_client.get(f"{ATTENDANCE_URL}create/").status_code == 404


class TestOnlyCoordinators:
    @pytest.mark.parametrize(
        "make_person",
        [
            lambda: UserFactory(roles=[Role.REFERRER]),
            lambda: UserFactory(roles=[Role.SIGNATORY]),
            lambda: UserFactory(roles=[Role.EDITOR]),
            lambda: UserFactory(is_superuser=True, organisation=None),
        ],
        ids=["referrer", "signatory", "editor", "superuser"],
    )
    def test_others_are_refused(self, make_person, agenda):
        upcoming, item, other = agenda
        action = an_action(item, other)
        client = verified_client_for(make_person())
        home = client.get(reverse("wagtailadmin_home")).content.decode()
        for url in INDEX_URLS:
            assert url not in home
        for url in (
            *INDEX_URLS,
            *(f"{url}?export=csv" for url in INDEX_URLS),
            f"{MEETINGS_URL}create/",
            f"{MEETINGS_URL}edit/{upcoming.pk}/",
            f"{ACTIONS_URL}edit/{action.pk}/",
        ):
            response = client.get(url)
            assert response.status_code in (302, 403), url
            assert not response.get("Content-Type", "").startswith("text/csv")
            assert item.referral.reference.encode() not in response.content
        response = client.post(
            f"{ACTIONS_URL}edit/{action.pk}/", {"status": "done", "update": "x"}
        )
        assert response.status_code in (302, 403)
        action.refresh_from_db()
        assert action.status == ActionStatus.OPEN
        assert not AuditEvent.objects.filter(action__endswith=".exported").exists()

    def test_anonymous_and_password_only_are_sent_to_sign_in(self, coordinator):
        password_only = Client()
        sign_in_with_password(password_only, coordinator)
        for client in (Client(), password_only):
            for url in INDEX_URLS:
                response = client.get(f"{url}?export=csv")
                assert response.status_code == 302, url
                assert not response["Location"].startswith(url)
