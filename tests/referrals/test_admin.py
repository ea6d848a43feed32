"""Referrals in the Wagtail admin: the coordinators' list, filters, search,
inspect screen and CSV export, and everyone else kept out."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from referrals.models import Referral, ReferralAttachment, Status
from referrals.services import referral_transition
from tests.conftest import sign_in_with_password, uncached_queries, verified_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.referrals import person, submitted_referral

pytestmark = pytest.mark.django_db

INDEX_URL = "/admin/referrals/referral/"
EXPORT_HEADER = [
    "Reference",
    "Status",
    "Urgent",
    "Risk level",
    "Referring organisation",
    "Submitted at",
    "Kinds of ASB",
    "Status changed at",
]


def inspect_url(referral):
    return reverse("referrals_referral_modeladmin_inspect", args=[referral.pk])


def listed(response) -> list[str]:
    """The references on the list page, in order."""
    assert response.status_code == 200
    return [referral.reference for referral in response.context["object_list"]]


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


def events(action, referral=None):
    found = AuditEvent.objects.filter(action=action)
    if referral is not None:
        found = found.filter(
            object_type="referrals.referral", object_id=str(referral.pk)
        )
    return found


@pytest.fixture
def coordinator():
    return UserFactory(roles=[Role.COORDINATOR])


@pytest.fixture
def coordinator_client(coordinator):
    return verified_client_for(coordinator)


@pytest.fixture
def referral():
    return submitted_referral()


class TestReferralList:
    def test_menu_item_is_offered_to_coordinators(self, coordinator_client):
        home = coordinator_client.get(reverse("wagtailadmin_home"))
        assert INDEX_URL in home.content.decode()

    def test_columns(self, coordinator_client):
        referral = submitted_referral(urgent=True)
        response = coordinator_client.get(INDEX_URL)
        page = response.content.decode()
        assert listed(response) == [referral.reference]
        table = page[page.index('<table class="listing') :]
        headings = re.findall(r"<th [^>]*>\s*(?:<a [^>]*>)?\s*([^<]+?)\s*<", table)
        assert headings[:7] == ["Reference", "Status", "Urgent", "Risk level",
                                "Organisation", "Submitted", "People"]  # fmt: skip
        assert referral.reference in page
        assert "Submitted" in page and "High" in page
        assert "<strong>Urgent</strong>" in page
        assert referral.organisation.name in page
        assert "Alex Example" in page
        assert inspect_url(referral) in page

    def test_newest_first(self, coordinator_client):
        first, second = submitted_referral(), submitted_referral()
        assert listed(coordinator_client.get(INDEX_URL)) == [
            second.reference,
            first.reference,
        ]

    def test_filter_by_status(self, coordinator, coordinator_client, referral):
        other = submitted_referral()
        referral_transition(
            referral=other,
            to_status=Status.SCREENING,
            expected_status=Status.SUBMITTED,
            user=coordinator,
        )
        response = coordinator_client.get(INDEX_URL, {"status__exact": "screening"})
        assert listed(response) == [other.reference]
        response = coordinator_client.get(INDEX_URL, {"status__exact": "submitted"})
        assert listed(response) == [referral.reference]

    def test_filter_by_organisation(self, coordinator_client, referral):
        other = submitted_referral()
        response = coordinator_client.get(
            INDEX_URL, {"organisation__id__exact": other.organisation_id}
        )
        assert listed(response) == [other.reference]

    def test_filter_by_urgent(self, coordinator_client, referral):
        urgent = submitted_referral(urgent=True)
        assert listed(coordinator_client.get(INDEX_URL, {"urgent__exact": "1"})) == [
            urgent.reference
        ]
        assert listed(coordinator_client.get(INDEX_URL, {"urgent__exact": "0"})) == [
            referral.reference
        ]

    def test_filter_by_submitted_date(self, coordinator_client, referral):
        old = submitted_referral()
        Referral.objects.filter(pk=old.pk).update(
            submitted_at=timezone.now() - timedelta(days=40)
        )
        # The values the filter's own "Past 7 days" link sends.
        today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        recent = {
            "submitted_at__gte": str(today - timedelta(days=7)),
            "submitted_at__lt": str(today + timedelta(days=1)),
        }
        assert listed(coordinator_client.get(INDEX_URL, recent)) == [referral.reference]

    def test_search_by_reference_and_names(self, coordinator_client, referral):
        obrien = submitted_referral(
            people=[
                person(0, name="Mary-Jane O'Brien"),
                person(1, role="witness", name="Mary O'Brien", born=(1, 2, 1990)),
            ]
        )
        search = lambda q: listed(coordinator_client.get(INDEX_URL, {"q": q}))  # noqa: E731
        assert search(referral.reference) == [referral.reference]
        assert search("alex example") == [referral.reference]
        # Two people match, the referral is listed once.
        assert search("O'Brien") == [obrien.reference]
        assert search("obrien mary") == [obrien.reference]
        assert search("Nobody Here") == []

    def test_queries_do_not_grow_with_rows(self, coordinator_client):
        for _ in range(2):
            submitted_referral()
        coordinator_client.get(INDEX_URL)  # warm the session and caches
        with uncached_queries() as two:
            assert len(listed(coordinator_client.get(INDEX_URL))) == 2
        for index in range(8):
            submitted_referral(
                people=[
                    person(0, name=f"Victim {index}"),
                    person(1, role="witness", name=f"Witness {index}"),
                ]
            )
        with uncached_queries() as ten:
            assert len(listed(coordinator_client.get(INDEX_URL))) == 10
        assert len(ten) == len(two)

    def test_list_offers_no_add_edit_or_delete(self, coordinator_client, referral):
        page = coordinator_client.get(INDEX_URL).content.decode()
        assert f"{INDEX_URL}create/" not in page
        assert f"{INDEX_URL}edit/" not in page
        assert f"{INDEX_URL}delete/" not in page


class TestInspect:
    def test_shows_everything_to_the_coordinator(self, coordinator_client):
        referral = submitted_referral(do_not_disclose=True, anonymous_source=True)
        response = coordinator_client.get(inspect_url(referral))
        assert response.status_code == 200
        page = response.content.decode()
        assert referral.reference in page
        assert "Submitted since" in page
        # Every section's answers, with nothing withheld from coordinators.
        assert "The anti-social behaviour and the risk" in page
        assert "Anxiety, treated by her GP." in page
        assert "07700 900 982" in page
        assert "Withheld" not in page

    def test_links_to_the_case_page_for_screening(self, coordinator_client, referral):
        page = coordinator_client.get(inspect_url(referral)).content.decode()
        assert (
            f'<a class="button button-primary" href="{referral.get_absolute_url()}">'
            "Screen this referral</a>"
        ) in page

    def test_history(self, coordinator, coordinator_client, referral):
        referral_transition(
            referral=referral,
            to_status=Status.SCREENING,
            expected_status=Status.SUBMITTED,
            user=coordinator,
        )
        page = coordinator_client.get(inspect_url(referral)).content.decode()
        assert "Status changed" in page
        assert "Submitted to Screening" in page
        assert "Screening since" in page

    def test_attachments_link_to_the_download(self, coordinator_client, referral):
        attachment = ReferralAttachment.objects.create(
            referral=referral,
            file=ContentFile(b"%PDF-1.7 risk", name="upload"),
            original_name="risk-assessment.pdf",
            content_type="application/pdf",
            size=13,
            sha256="0" * 64,
            uploaded_by=referral.referrer,
        )
        page = coordinator_client.get(inspect_url(referral)).content.decode()
        url = reverse("referrals:attachment", args=[referral.reference, attachment.pk])
        assert f'href="{url}"' in page
        assert "risk-assessment.pdf" in page

    def test_earlier_referrals_for_the_same_person(self, coordinator_client):
        earlier = submitted_referral()
        Referral.objects.filter(pk=earlier.pk).update(
            submitted_at=timezone.now() - timedelta(days=30)
        )
        later = submitted_referral()
        page = coordinator_client.get(inspect_url(later)).content.decode()
        assert reverse("referrals:detail", args=[earlier.reference]) in page
        page = coordinator_client.get(inspect_url(earlier)).content.decode()
        assert "None in the 12 months before this referral." in page

    def test_viewing_is_recorded(self, coordinator, coordinator_client, referral):
        coordinator_client.get(inspect_url(referral))
        event = events("read", referral).get()
        assert event.actor_id == coordinator.pk

    def test_unknown_referral_is_not_found(self, coordinator_client):
        response = coordinator_client.get(
            reverse("referrals_referral_modeladmin_inspect", args=[999_999])
        )
        assert response.status_code == 404
        assert not events("read").exists()


class TestExport:
    def test_columns_and_values(self, coordinator_client):
        referral = submitted_referral(urgent=True)
        header, *rows = csv_rows(coordinator_client.get(INDEX_URL, {"export": "csv"}))
        assert header == EXPORT_HEADER
        assert len(rows) == 1
        row = dict(zip(header, rows[0], strict=True))
        assert row["Reference"] == referral.reference
        assert row["Status"] == "Submitted"
        assert row["Urgent"] == "Yes"
        assert row["Risk level"] == "High"
        assert row["Referring organisation"] == referral.organisation.name
        assert row["Kinds of ASB"] == "Noise; Criminal damage"
        submitted = timezone.localtime(referral.submitted_at)
        assert row["Submitted at"] == submitted.strftime("%Y-%m-%d %H:%M")

    def test_no_special_category_or_personal_details(self, coordinator_client):
        submitted_referral(people=[person(0, disability="Uses a wheelchair",
                                          ethnicity="White Irish")])  # fmt: skip
        text = "\n".join(
            ",".join(row)
            for row in csv_rows(coordinator_client.get(INDEX_URL, {"export": "csv"}))
        )
        for detail in (
            "Anxiety",  # mental health
            "wheelchair",  # disability
            "Irish",  # ethnicity
            "Alex Example",  # a person's name
            "07700 900 982",  # their phone
            "Example Road",  # their address
            "neighbour",  # who they fear
            "Sam Referrer",  # the referrer
        ):
            assert detail not in text, detail

    def test_follows_the_filters(self, coordinator_client, referral):
        urgent = submitted_referral(urgent=True)
        _, *rows = csv_rows(
            coordinator_client.get(INDEX_URL, {"export": "csv", "urgent__exact": "1"})
        )
        assert [row[0] for row in rows] == [urgent.reference]

    def test_formula_cells_are_neutralised(self, coordinator_client):
        risky = OrganisationFactory(name='=HYPERLINK("http://x")')
        referrer = UserFactory(organisation=risky, roles=[Role.REFERRER])
        submitted_referral(user=referrer)
        _, row = csv_rows(coordinator_client.get(INDEX_URL, {"export": "csv"}))
        assert row[4] == '\'=HYPERLINK("http://x")'
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)

    def test_export_is_recorded_with_the_row_count(self, coordinator_client):
        submitted_referral()
        submitted_referral()
        csv_rows(coordinator_client.get(INDEX_URL, {"export": "csv"}))
        event = events("referral.exported").get()
        assert event.detail == {"rows": 2, "format": "csv"}

    def test_xlsx_is_recorded_too(self, coordinator_client, referral):
        response = coordinator_client.get(INDEX_URL, {"export": "xlsx"})
        assert response.status_code == 200
        assert events("referral.exported").get().detail["format"] == "xlsx"


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
    def test_others_are_refused_and_nothing_is_recorded(self, make_person, referral):
        client = verified_client_for(make_person())
        home = client.get(reverse("wagtailadmin_home"))
        assert INDEX_URL not in home.content.decode()
        for url in (
            INDEX_URL,
            f"{INDEX_URL}?export=csv",
            f"{INDEX_URL}?export=xlsx",
            inspect_url(referral),
        ):
            response = client.get(url)
            assert response.status_code in (302, 403), url
            assert not response.get("Content-Type", "").startswith("text/csv")
            assert b"Alex Example" not in response.content
        assert not events("read").exists()
        assert not events("referral.exported").exists()
        assert not events("referral.list_viewed").exists()

    def test_anonymous_and_password_only_are_sent_to_sign_in(
        self, coordinator, referral
    ):
        password_only = Client()
        sign_in_with_password(password_only, coordinator)
        for client in (Client(), password_only):
            for url in (INDEX_URL, f"{INDEX_URL}?export=csv", inspect_url(referral)):
                response = client.get(url)
                assert response.status_code == 302, url
                assert not response["Location"].startswith(INDEX_URL)
        assert not events("read").exists()
        assert not events("referral.exported").exists()

    def test_superuser_who_coordinates_may(self, referral):
        admin = UserFactory(is_superuser=True, roles=[Role.COORDINATOR])
        client = verified_client_for(admin)
        assert listed(client.get(INDEX_URL)) == [referral.reference]

    def test_inactive_coordinator_is_refused(self, coordinator, referral):
        client = verified_client_for(coordinator)
        assert client.get(INDEX_URL).status_code == 200
        coordinator.is_active = False
        coordinator.save()
        assert client.get(inspect_url(referral)).status_code in (302, 403)


class TestNoChangesInTheAdmin:
    def test_no_create_edit_delete_or_history_routes(self, coordinator, referral):
        admin = UserFactory(is_superuser=True, roles=[Role.COORDINATOR])
        for action in ("create", "edit", "delete", "history", "choose_parent"):
            with pytest.raises(NoReverseMatch):
                reverse(
                    f"referrals_referral_modeladmin_{action}",
                    args=[] if action in ("create", "choose_parent") else [1],
                )
        before = Referral.objects.values_list("pk", "status", "urgent").get()
        for client in (verified_client_for(coordinator), verified_client_for(admin)):
            for url in (
                f"{INDEX_URL}create/",
                f"{INDEX_URL}edit/{referral.pk}/",
                f"{INDEX_URL}delete/{referral.pk}/",
                f"{INDEX_URL}history/{referral.pk}/",
            ):
                for method in ("get", "post"):
                    response = getattr(client, method)(
                        url, {"status": "closed", "urgent": "on"}
                    )
                    assert response.status_code == 404, (method, url)
            # The inspect screen reads only.
            response = client.post(inspect_url(referral), {"status": "closed"})
            assert response.status_code in (403, 405)
        assert Referral.objects.values_list("pk", "status", "urgent").get() == before
