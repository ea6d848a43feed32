"""The coordinator's screens for building a meeting: scheduling, the agenda
builder, issuing papers, and what agencies then see."""

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role
from audit.models import AuditEvent
from jobs.models import OutgoingEmail
from meetings.calendar import calendar_invitations_sync
from meetings.forms import ANOTHER_CASE
from meetings.models import AgendaItem, Meeting, MeetingKind, MeetingPack
from meetings.services import (
    MeetingRefused,
    agenda_item_invite,
)
from notices.models import Notice, NoticeKind
from portal.calendar import working_days_before
from referrals.models import ReferralShare
from tests.conftest import verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import (
    accepted,
    confirmed,
    coordinator,
    meeting,
    on_agenda,
)
from tests.factories.referrals import person, submitted_referral

pytestmark = pytest.mark.django_db


def _schedule_data(**changes) -> dict:
    day = timezone.localdate() + timedelta(days=30)
    data = {
        "kind": MeetingKind.FULL,
        "day_0": str(day.day),
        "day_1": str(day.month),
        "day_2": str(day.year),
        "time": "10:30",
        "location": "Committee room 2, Town Hall",
        "online_link": "",
        "chair": "",
        "referral_deadline_0": "",
        "referral_deadline_1": "",
        "referral_deadline_2": "",
        "reported_to": "",
    }
    data.update(changes)
    return data


def _referrer(organisation, **names):
    return UserFactory(organisation=organisation, roles=[Role.REFERRER], **names)


@pytest.fixture
def boss():
    return coordinator()


@pytest.fixture
def boss_client(boss):
    return verified_client_for(boss)


@pytest.fixture
def agencies():
    return {name: OrganisationFactory(name=name) for name in
            ("Police", "Housing", "Fire")}  # fmt: skip


@pytest.fixture
def waiting(boss, agencies):
    """An accepted referral from Housing, waiting for a meeting."""
    return accepted(
        submitted_referral(
            _referrer(agencies["Housing"]), people=[person(0, name="Vera Victim")]
        ),
        boss,
    )


def _add(client, upcoming, referral, invited=(), slot="15", follow=False):
    return client.post(
        reverse("meetings:agenda_add", args=[upcoming.pk]),
        {
            "referral": referral.reference,
            "invited": [o.pk for o in invited],
            "slot_minutes": slot,
        },
        follow=follow,
    )


class TestSchedule:
    def test_a_coordinator_schedules_a_meeting_with_the_default_deadline(
        self, boss, boss_client
    ):
        response = boss_client.post(
            reverse("meetings:schedule"), _schedule_data(chair=boss.pk)
        )
        created = Meeting.objects.get()
        assert response.status_code == 302
        assert response["Location"] == created.get_absolute_url()
        local = timezone.localtime(created.starts_at)
        assert (local.hour, local.minute) == (10, 30)
        assert created.chair == boss
        assert created.referral_deadline == working_days_before(created.day, 10)
        assert AuditEvent.objects.filter(action="meeting.scheduled").exists()

    def test_the_form_offers_active_coordinators_as_chair(self, boss, boss_client):
        other = UserFactory(first_name="Chris", last_name="Chair",
                            roles=[Role.COORDINATOR])  # fmt: skip
        gone = UserFactory(first_name="Gone", last_name="Away",
                           roles=[Role.COORDINATOR], is_active=False)  # fmt: skip
        page = boss_client.get(reverse("meetings:schedule")).content.decode()
        assert "Chris Chair" in page
        assert "Gone Away" not in page
        assert f'<option value="{boss.pk}" selected>' in page
        assert other.pk != gone.pk

    def test_mistakes_are_explained_and_nothing_typed_is_lost(self, boss, boss_client):
        response = boss_client.post(
            reverse("meetings:schedule"),
            _schedule_data(
                chair=boss.pk, time="25:99", location="", day_0="31", day_1="2",
                online_link="not a link",
            ),
        )  # fmt: skip
        page = response.content.decode()
        assert response.status_code == 400
        assert not Meeting.objects.exists()
        assert "<title>Error: " in page
        assert "There is a problem" in page
        assert "Enter the start time as hours and minutes" in page
        assert "Date of the meeting must be a real date" in page
        assert "Enter the online link as a full web address" in page
        assert 'value="25:99"' in page
        assert 'value="31"' in page

    def test_a_place_or_link_and_a_deadline_before_the_meeting(self, boss, boss_client):
        day = timezone.localdate() + timedelta(days=30)
        response = boss_client.post(
            reverse("meetings:schedule"),
            _schedule_data(
                chair=boss.pk, location="", referral_deadline_0=str(day.day),
                referral_deadline_1=str(day.month), referral_deadline_2=str(day.year),
            ),
        )  # fmt: skip
        page = response.content.decode()
        assert "Enter where the meeting is, or its online link" in page
        assert "Referral deadline must be before the date of the meeting" in page

    def test_an_online_meeting_in_the_past_and_a_missing_chair(self, boss_client):
        past = timezone.localdate() - timedelta(days=1)
        page = boss_client.post(
            reverse("meetings:schedule"),
            _schedule_data(
                location="", online_link="https://meet.example.org/cmarac",
                day_0=str(past.day), day_1=str(past.month), day_2=str(past.year),
            ),
        ).content.decode()  # fmt: skip
        assert "Date of the meeting must be today or in the future" in page
        assert "Select who chairs the meeting" in page
        assert "Enter where the meeting is" not in page

    def test_an_urgent_meeting_reports_to_a_full_one(self, boss, boss_client):
        full = meeting(boss, days_ahead=40)
        response = boss_client.post(
            reverse("meetings:schedule"),
            _schedule_data(chair=boss.pk, kind=MeetingKind.URGENT,
                           reported_to=full.pk),
        )  # fmt: skip
        urgent = Meeting.objects.get(kind=MeetingKind.URGENT)
        assert response.status_code == 302
        assert urgent.reported_to == full
        refused = boss_client.post(
            reverse("meetings:schedule"),
            _schedule_data(chair=boss.pk, reported_to=full.pk),
        )
        assert "Only an urgent meeting reports to a full meeting" in (
            refused.content.decode()
        )


class TestOnlyCoordinators:
    @pytest.mark.slow
    def test_agency_staff_get_404_everywhere_a_meeting_is_built(
        self, boss, agencies, waiting, django_capture_on_commit_callbacks
    ):
        upcoming = meeting(boss)
        item = on_agenda(upcoming, waiting, [agencies["Police"]], boss)
        # Invited, and papers issued, so the meeting itself is visible to them.
        with django_capture_on_commit_callbacks(execute=True):
            verified_client_for(boss).post(reverse("meetings:issue",
                                                   args=[upcoming.pk]))  # fmt: skip
        client = verified_client_for(_referrer(agencies["Police"]))
        assert client.get(upcoming.get_absolute_url()).status_code == 200
        urls = [
            ("get", reverse("meetings:schedule")),
            ("post", reverse("meetings:schedule")),
            ("post", reverse("meetings:agenda_add", args=[upcoming.pk])),
            ("post", reverse("meetings:agenda_move", args=[upcoming.pk, item.pk])),
            ("post", reverse("meetings:agenda_remove", args=[upcoming.pk, item.pk])),
            ("get", reverse("meetings:agenda_invite", args=[upcoming.pk, item.pk])),
            ("post", reverse("meetings:agenda_invite", args=[upcoming.pk, item.pk])),
            ("get", reverse("meetings:issue", args=[upcoming.pk])),
            ("post", reverse("meetings:issue", args=[upcoming.pk])),
        ]
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 404, (method, url)
        assert AgendaItem.objects.filter(pk=item.pk).exists()

    def test_the_agency_view_has_no_builder(self, boss, agencies, waiting):
        upcoming = meeting(boss)
        on_agenda(upcoming, waiting, [agencies["Police"]], boss)
        page = verified_client_for(boss).get(upcoming.get_absolute_url())
        assert "Add a case to the agenda" in page.content.decode()
        # Invited before papers are issued: the meeting, but no builder and
        # no case (tests/meetings/test_invited_before_papers.py).
        client = verified_client_for(_referrer(agencies["Police"]))
        body = client.get(upcoming.get_absolute_url()).content.decode()
        assert "Add a case to the agenda" not in body
        assert waiting.reference not in body


class TestAgendaBuilder:
    def test_the_form_lists_accepted_cases_not_yet_on_the_agenda(
        self, boss, boss_client, waiting
    ):
        upcoming = meeting(boss)
        other = accepted(submitted_referral(), boss)
        on_agenda(upcoming, other, [], boss)
        not_accepted = submitted_referral()
        page = boss_client.get(upcoming.get_absolute_url()).content.decode()
        assert f'type="radio" value="{waiting.reference}"' in page
        assert "From Housing, risk: High" in page
        assert "The one case waiting for a meeting" in page
        assert f'value="{other.reference}"' not in page
        assert not_accepted.reference not in page
        assert "Another case: enter its reference" in page
        assert "For example, CM-2026-0005" in page
        assert "The referring organisation is always invited" in page

    def test_only_the_longest_waiting_are_listed_and_queries_stay_the_same(
        self, boss, boss_client, monkeypatch
    ):
        """Issue 23: the page lists a few cases, oldest first, and says how
        many wait; its queries do not grow with the cases waiting."""
        monkeypatch.setattr("meetings.views.AGENDA_CASES_LISTED", 2)
        upcoming = meeting(boss)
        url = upcoming.get_absolute_url()

        def queries():
            boss_client.get(url)  # warm what every page reads (sessions, sites)
            with CaptureQueriesContext(connection) as counted:
                page = boss_client.get(url).content.decode()
            return [query["sql"] for query in counted], page

        cases = [accepted(submitted_referral(), boss)]
        few, _ = queries()
        cases += [accepted(submitted_referral(), boss) for _ in range(3)]
        many, page = queries()
        assert len(many) == len(few), "\n".join(sorted(set(many) ^ set(few)))
        listed = re.findall(r'name="case" type="radio" value="([^"]+)"', page)
        assert listed == [cases[0].reference, cases[1].reference, "another"]
        assert "Showing the 2 cases that have waited longest, of 4 waiting" in page

    def test_a_case_is_added_by_its_radio_or_by_its_reference_as_typed(
        self, boss, boss_client, waiting
    ):
        upcoming = meeting(boss)
        other = accepted(submitted_referral(), boss)
        url = reverse("meetings:agenda_add", args=[upcoming.pk])
        picked = boss_client.post(url, {"case": waiting.reference, "referral": "",
                                        "slot_minutes": "15"})  # fmt: skip
        assert picked.status_code == 302
        typed = f" {other.reference.lower()} "
        response = boss_client.post(
            url, {"case": ANOTHER_CASE, "referral": typed, "slot_minutes": "15"}
        )
        assert response.status_code == 302
        assert list(
            upcoming.agenda_items.order_by("position").values_list(
                "referral__reference", flat=True
            )
        ) == [waiting.reference, other.reference]

    def test_an_unknown_or_badly_formed_reference_is_refused_and_kept(
        self, boss, boss_client, agencies, waiting
    ):
        upcoming = meeting(boss)
        url = reverse("meetings:agenda_add", args=[upcoming.pk])
        for typed, message in (
            ("CM-2026-9999", "There is no case CM-2026-9999 that you can see: "
                             "check the reference"),
            ("Vera Victim", "Enter the case reference in the right form, like "
                            "CM-2026-0005"),
        ):  # fmt: skip
            response = boss_client.post(url, {
                "case": ANOTHER_CASE, "referral": typed,
                "invited": [agencies["Fire"].pk], "slot_minutes": "25",
            })  # fmt: skip
            assert response.status_code == 400
            page = response.content.decode()
            assert f'<a href="#id_referral">{message}</a>' in page
            assert re.search(
                rf'id="id_referral-error-1" class="govuk-error-message">'
                rf"<span[^>]*>Error:</span> {message}",
                page,
            )
            assert f'value="{typed}"' in page
            assert f'value="{ANOTHER_CASE}" checked' in page
            assert f'value="{agencies["Fire"].pk}" checked' in page
            assert 'value="25"' in page
        assert not AgendaItem.objects.exists()

    def test_a_case_on_the_agenda_since_the_page_was_drawn_is_refused_by_it(
        self, boss, boss_client, waiting
    ):
        """The coordinator picked a listed case that a colleague has since
        added: the service's message, with the reference kept in the box."""
        upcoming = meeting(boss)
        on_agenda(upcoming, waiting, [], boss)
        response = boss_client.post(
            reverse("meetings:agenda_add", args=[upcoming.pk]),
            {"case": waiting.reference, "slot_minutes": "15"},
        )
        assert response.status_code == 400
        page = response.content.decode()
        message = f"{waiting.reference} is already on this agenda."
        assert f'<a href="#id_referral">{message}</a>' in page
        assert f'name="referral" value="{waiting.reference}"' in page
        assert AgendaItem.objects.filter(meeting=upcoming).count() == 1

    def test_a_listed_case_and_a_different_reference_are_refused(
        self, boss, boss_client, waiting
    ):
        """Adding a case shares it: when the radio and the box disagree, the
        coordinator says which was meant."""
        upcoming = meeting(boss)
        other = accepted(submitted_referral(), boss)
        url = reverse("meetings:agenda_add", args=[upcoming.pk])
        response = boss_client.post(url, {"case": waiting.reference,
                                          "referral": other.reference,
                                          "slot_minutes": "15"})  # fmt: skip
        assert response.status_code == 400
        page = response.content.decode()
        assert (
            '<a href="#id_case_0">Choose a case from the list or enter a reference, '
            "not both</a>" in page
        )
        assert re.search(rf'value="{waiting.reference}"[^>]*checked', page)
        assert f'name="referral" value="{other.reference}"' in page
        assert not AgendaItem.objects.exists()
        # The same case both ways is no disagreement.
        response = boss_client.post(url, {"case": waiting.reference,
                                          "referral": waiting.reference.lower(),
                                          "slot_minutes": "15"})  # fmt: skip
        assert response.status_code == 302

    def test_a_listed_case_refused_keeps_its_radio_chosen(
        self, boss, boss_client, waiting
    ):
        upcoming = meeting(boss)
        response = boss_client.post(
            reverse("meetings:agenda_add", args=[upcoming.pk]),
            {"case": waiting.reference, "slot_minutes": "500"},
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert re.search(rf'value="{waiting.reference}"[^>]*checked', page)
        assert "Time for the case must be 120 minutes or fewer" in page

    def test_adding_a_case_invites_and_shares_with_the_referring_org_always_in(
        self, boss, boss_client, agencies, waiting
    ):
        upcoming = meeting(boss)
        response = _add(boss_client, upcoming, waiting, [agencies["Police"]], "20")
        assert response.status_code == 302
        item = AgendaItem.objects.get(meeting=upcoming)
        assert item.slot_minutes == 20
        assert set(item.invited.all()) == {agencies["Police"], agencies["Housing"]}
        shared = set(
            ReferralShare.objects.in_force()
            .filter(referral=waiting)
            .values_list("organisation__name", flat=True)
        )
        assert shared == {"Police"}
        page = boss_client.get(response["Location"]).content.decode()
        assert f"{waiting.reference} is on the agenda." in page
        assert AuditEvent.objects.filter(action="meeting.agenda_item_added").exists()

    def test_a_referral_not_accepted_is_refused_with_the_reason(
        self, boss, boss_client, agencies
    ):
        upcoming = meeting(boss)
        submitted = submitted_referral()
        response = _add(boss_client, upcoming, submitted, [agencies["Fire"]], "25",
                        follow=True)  # fmt: skip
        assert response.status_code == 400
        page = response.content.decode()
        assert not AgendaItem.objects.exists()
        assert "<title>Error: " in page
        assert "only accepted referrals go on an agenda" in page
        assert 'value="25"' in page
        assert f'value="{agencies["Fire"].pk}" checked' in page

    def test_a_double_submission_does_not_duplicate(self, boss, boss_client, waiting):
        upcoming = meeting(boss)
        _add(boss_client, upcoming, waiting)
        response = _add(boss_client, upcoming, waiting)
        assert response.status_code == 400
        assert AgendaItem.objects.filter(meeting=upcoming).count() == 1
        assert f"{waiting.reference} is already on this agenda." in (
            response.content.decode()
        )

    def test_a_missing_case_and_a_bad_slot_are_explained(self, boss, boss_client):
        upcoming = meeting(boss)
        accepted(submitted_referral(), boss)
        url = reverse("meetings:agenda_add", args=[upcoming.pk])
        page = boss_client.post(
            url, {"referral": "", "slot_minutes": "an hour"}, follow=True
        ).content.decode()
        assert (
            '<a href="#id_case_0">Select a case to add, or enter its reference</a>'
            in page
        )
        assert "Time for the case must be a whole number of minutes" in page
        assert 'value="an hour"' in page
        page = boss_client.post(
            url, {"case": ANOTHER_CASE, "referral": " ", "slot_minutes": "15"}
        ).content.decode()
        assert '<a href="#id_referral">Enter the case reference</a>' in page

    def test_move_and_remove_renumber_the_agenda(self, boss, boss_client):
        upcoming = meeting(boss)
        first, second, third = (
            on_agenda(upcoming, accepted(submitted_referral(), boss), [], boss)
            for _ in range(3)
        )

        def order():
            return list(
                upcoming.agenda_items.order_by("position").values_list("pk", "position")
            )

        url = reverse("meetings:agenda_move", args=[upcoming.pk, third.pk])
        assert boss_client.post(url, {"direction": "up"}).status_code == 302
        assert order() == [(first.pk, 1), (third.pk, 2), (second.pk, 3)]
        boss_client.post(
            reverse("meetings:agenda_move", args=[upcoming.pk, first.pk]),
            {"direction": "down"},
        )
        assert order() == [(third.pk, 1), (first.pk, 2), (second.pk, 3)]
        assert boss_client.post(url, {"direction": "sideways"}).status_code == 400
        boss_client.post(
            reverse("meetings:agenda_remove", args=[upcoming.pk, third.pk])
        )
        assert order() == [(first.pk, 1), (second.pk, 2)]
        assert AuditEvent.objects.filter(action="meeting.agenda_item_removed").exists()

    def test_an_item_of_another_meeting_is_404(self, boss, boss_client, waiting):
        upcoming, other = meeting(boss), meeting(boss, days_ahead=21)
        item = on_agenda(upcoming, waiting, [], boss)
        url = reverse("meetings:agenda_remove", args=[other.pk, item.pk])
        assert boss_client.post(url).status_code == 404
        assert AgendaItem.objects.filter(pk=item.pk).exists()

    def test_changing_who_is_invited_updates_the_shares(
        self, boss, boss_client, agencies, waiting
    ):
        upcoming = meeting(boss)
        item = on_agenda(upcoming, waiting, [agencies["Police"]], boss)
        url = reverse("meetings:agenda_invite", args=[upcoming.pk, item.pk])
        page = boss_client.get(url).content.decode()
        assert "Housing referred this case, so it is always invited" in page
        assert f'value="{agencies["Police"].pk}" checked' in page
        assert f'value="{agencies["Housing"].pk}"' not in page

        assert "Why do the organisations you invite need to see the case?" in page

        response = boss_client.post(
            url,
            {"invited": [agencies["Fire"].pk], "share_reason": "safeguarding"},
        )
        assert response.status_code == 302
        assert set(item.invited.all()) == {agencies["Fire"], agencies["Housing"]}
        fire = waiting.shares.in_force().get()
        assert (fire.organisation.name, fire.reason) == ("Fire", "safeguarding")
        assert fire.granted_by == boss
        boss_client.post(url, {})
        assert set(item.invited.all()) == {agencies["Housing"]}
        assert not waiting.shares.in_force().exists()
        # Ended, not deleted: the history says who could see the case and why.
        ended = waiting.shares.get(organisation=agencies["Fire"])
        assert ended.end_reason == "No longer invited to a meeting about the case"


@pytest.fixture
def issued(boss, boss_client, agencies, waiting, django_capture_on_commit_callbacks):
    """Papers issued through the confirmation page: Police is invited to the
    Housing case, Fire to nothing."""
    upcoming = meeting(boss)
    on_agenda(upcoming, waiting, [agencies["Police"]], boss)
    staff = {
        "police": _referrer(agencies["Police"], first_name="Petra",
                            last_name="Constable"),
        "housing": _referrer(agencies["Housing"]),
        "fire": _referrer(agencies["Fire"]),
    }  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = boss_client.post(reverse("meetings:issue", args=[upcoming.pk]))
    assert response.status_code == 302
    return {"meeting": upcoming, "staff": staff, **agencies}


class TestIssuePapers:
    def test_the_confirmation_page_counts_cases_and_organisations(
        self, boss, boss_client, agencies, waiting
    ):
        upcoming = meeting(boss)
        on_agenda(upcoming, waiting, [agencies["Police"]], boss)
        on_agenda(upcoming, accepted(submitted_referral(), boss), [], boss)
        page = boss_client.get(
            reverse("meetings:issue", args=[upcoming.pk])
        ).content.decode()
        # Police and Housing, plus the second case's own new organisation.
        assert "Issue papers for 2 cases to 3 organisations?" in page

    @pytest.mark.slow
    def test_issuing_builds_packs_and_emails_invited_staff_without_names(
        self, issued, boss_client
    ):
        upcoming = issued["meeting"]
        assert set(
            MeetingPack.objects.filter(meeting=upcoming).values_list(
                "organisation__name", flat=True
            )
        ) == {"Police", "Housing"}
        recipients = {address for m in mail.outbox for address in m.to}
        staff = issued["staff"]
        assert staff["police"].email in recipients
        assert staff["housing"].email in recipients
        assert staff["fire"].email not in recipients
        for message in mail.outbox:
            for text in (message.subject, message.body):
                assert "Vera" not in text
                assert "Victim" not in text
                assert "Example Road" not in text
        page = boss_client.get(upcoming.get_absolute_url()).content.decode()
        assert "Packs" in page
        police_pack = MeetingPack.objects.get(organisation=issued["Police"])
        link = f"{reverse('meetings:pack', args=[upcoming.pk])}?organisation="
        assert f'{link}{issued["Police"].slug}"' in page
        assert f'{link}{issued["Housing"].slug}"' in page
        assert f'<td class="govuk-table__cell">{police_pack.pages}</td>' in page

    @pytest.mark.slow
    def test_a_second_issue_is_refused(self, issued, boss_client):
        response = boss_client.post(
            reverse("meetings:issue", args=[issued["meeting"].pk])
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert "Papers can be issued only once" in page
        assert "<title>Error: " in page

    @pytest.mark.slow
    def test_a_coordinator_downloads_any_agencys_pack(self, issued, boss, boss_client):
        confirmed(issued["meeting"], boss)
        response = boss_client.get(
            reverse("meetings:pack", args=[issued["meeting"].pk]),
            {"organisation": issued["Police"].slug},
        )
        assert response["Content-Type"] == "application/pdf"


class TestAgencyAccess:
    @pytest.mark.slow
    def test_a_non_invited_agency_gets_404_for_the_meeting_and_the_pack(self, issued):
        client = verified_client_for(issued["staff"]["fire"])
        upcoming = issued["meeting"]
        assert client.get(upcoming.get_absolute_url()).status_code == 404
        pack = reverse("meetings:pack", args=[upcoming.pk])
        assert client.get(pack).status_code == 404
        assert client.get(pack, {"organisation": issued["Police"].slug}).status_code \
            == 404  # fmt: skip

    @pytest.mark.slow
    def test_an_invited_agency_downloads_its_watermarked_pack(self, issued):
        client = verified_client_for(issued["staff"]["police"])
        upcoming = issued["meeting"]
        confirmed(upcoming, issued["staff"]["police"])
        page = client.get(upcoming.get_absolute_url()).content.decode()
        assert "Download your meeting pack (PDF)" in page
        assert "Add a case to the agenda" not in page
        response = client.get(reverse("meetings:pack", args=[upcoming.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        reader = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
        text = "\n".join(p.extract_text() for p in reader.pages)
        assert "Downloaded by Petra Constable, Police" in text
        event = AuditEvent.objects.filter(action="meeting.pack_downloaded").last()
        assert event is not None
        assert event.detail["organisation"] == issued["Police"].pk


class TestOnlyPartiesInvited:
    """Only parties to the ISA in force that acknowledged it may be invited
    to a case, whatever the form offered (docs/features.md, "Agreements")."""

    def test_the_form_offers_only_parties_and_a_forged_choice_is_refused(
        self, boss, boss_client, agencies, waiting
    ):
        outsider = OrganisationFactory(name="Outsider agency", party=False)
        upcoming = meeting(boss)
        item = on_agenda(upcoming, waiting, [agencies["Police"]], boss)
        url = reverse("meetings:agenda_invite", args=[upcoming.pk, item.pk])
        page = boss_client.get(url).content.decode()
        assert f'value="{agencies["Fire"].pk}"' in page
        assert f'value="{outsider.pk}"' not in page
        response = boss_client.post(url, {"invited": [outsider.pk]})
        assert response.status_code == 400
        assert outsider not in item.invited.all()
        assert not waiting.shares.filter(organisation=outsider).exists()

    def test_the_services_refuse_an_organisation_outside_the_isa(
        self, boss, agencies, waiting
    ):
        outsider = OrganisationFactory(name="Outsider agency", party=False)
        upcoming = meeting(boss)
        with pytest.raises(MeetingRefused, match="Outsider agency cannot be invited"):
            on_agenda(upcoming, waiting, [outsider], boss)
        item = on_agenda(upcoming, waiting, [agencies["Police"]], boss)
        with pytest.raises(MeetingRefused, match="Outsider agency cannot be invited"):
            agenda_item_invite(item=item, invited=[outsider], user=boss)
        assert outsider not in item.invited.all()


class TestQueriesDoNotGrowWithPeople:
    """Issue 23: adding a case tells every caseworker of a newly invited
    agency (a notice each, and an email each); the request's queries, and
    the worker's calendar sync, stay the same for 2 or 12 of them."""

    def _agency(self, name: str, people: int):
        agency = OrganisationFactory(name=name)
        staff = [_referrer(agency) for _ in range(people)]
        return agency, staff

    def _add_counting(self, boss, boss_client, agencies, people: int) -> int:
        agency, staff = self._agency(f"Agency of {people}", people)
        referral = accepted(submitted_referral(_referrer(agencies["Housing"])), boss)
        upcoming = meeting(boss)
        with CaptureQueriesContext(connection) as queries:
            response = _add(boss_client, upcoming, referral, [agency])
        assert response.status_code == 302
        # Everyone of the agency was told, once, by notice and by email.
        told = Notice.objects.filter(
            kind=NoticeKind.CASE_SHARED, recipient__organisation=agency
        )
        assert sorted(told.values_list("recipient_id", flat=True)) == sorted(
            worker.pk for worker in staff
        )
        assert (
            OutgoingEmail.objects.filter(
                to__in=[worker.email for worker in staff]
            ).count()
            == people
        )
        return len(queries)

    def test_adding_a_case(self, boss, boss_client, agencies):
        few = self._add_counting(boss, boss_client, agencies, 2)
        many = self._add_counting(boss, boss_client, agencies, 12)
        assert many <= few

    def _sync_counting(self, boss, agencies, people: int) -> int:
        agency, staff = self._agency(f"Invited {people}", people)
        referring = OrganisationFactory(name=f"Referring {people}")
        referral = accepted(submitted_referral(_referrer(referring)), boss)
        upcoming = meeting(boss)
        on_agenda(upcoming, referral, [agency], boss)
        with CaptureQueriesContext(connection) as queries:
            counts = calendar_invitations_sync(upcoming.pk)
        # The chair, the referrer, and each of the agency's caseworkers.
        assert counts["invited"] == people + 2
        for worker in staff:
            [email] = OutgoingEmail.objects.filter(
                to=worker.email, event__contains="-calendar-"
            )
            assert email.attachment_name == "invite.ics"
            assert "METHOD:REQUEST" in email.attachment
        return len(queries)

    def test_sending_calendar_invitations(self, boss, agencies):
        few = self._sync_counting(boss, agencies, 2)
        many = self._sync_counting(boss, agencies, 12)
        assert many <= few
