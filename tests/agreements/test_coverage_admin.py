"""Agreement coverage in the Wagtail admin: the version list, the per-version
screen and its CSV, for coordinators only."""

import csv
import io
from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agreements.models import AgreementVersion
from audit.models import AuditEvent
from portal.dates import long_date
from tests.conftest import sign_in_with_password, uncached_queries, verify_session
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.agreements import (
    acknowledge,
    agreement_tree,
    publish_change,
    signatory_for,
)

pytestmark = pytest.mark.django_db

INDEX_URL = "/admin/agreements/agreementversion/"


def client_for(person):
    client = Client()
    sign_in_with_password(client, person)
    verify_session(client, person)
    return client


def coverage_url(version, *, as_csv=False):
    url = reverse("agreements_coverage", args=[version.pk])
    return f"{url}?format=csv" if as_csv else url


def csv_rows(response):
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.getvalue().decode())))


def events(action, version=None):
    found = AuditEvent.objects.filter(action=action)
    if version is not None:
        found = found.filter(
            object_type="agreements.agreementversion", object_id=str(version.pk)
        )
    return found


@pytest.fixture
def tree():
    return agreement_tree()


@pytest.fixture
def coordinator_client(tree):
    return client_for(tree[3])


class TestVersionList:
    def test_coordinator_sees_every_version_with_state_and_coverage(
        self, tree, coordinator_client
    ):
        _, isa, organisations, coordinator = tree
        first = isa.latest_version
        acknowledge(first, organisations[0])
        isa = publish_change(isa, coordinator, number="2.0")
        response = coordinator_client.get(INDEX_URL)
        assert response.status_code == 200
        page = response.content.decode()
        assert "Agreement coverage" in page
        assert "CMARAC ISA" in page and "Protocol" in page
        assert "Superseded" in page and "Current" in page
        assert "33%" in page  # version 1.0: one of three acknowledged
        assert "0%" in page  # version 2.0 is material: nobody yet
        for version in AgreementVersion.objects.all():
            assert coverage_url(version) in page

    def test_review_date_is_flagged_when_overdue(self):
        _, _, _, coordinator = agreement_tree(effective=date(2020, 1, 6))
        page = client_for(coordinator).get(INDEX_URL).content.decode()
        assert "6 January 2021 (overdue)" in page

    def test_review_date_is_not_flagged_before_it_is_due(self, coordinator_client):
        page = coordinator_client.get(INDEX_URL).content.decode()
        assert "6 January 2027" in page
        if timezone.localdate() < date(2027, 1, 6):
            assert "(overdue)" not in page

    def test_list_queries_do_not_grow_with_organisations(self, tree):
        _, isa, organisations, coordinator = tree
        client = client_for(coordinator)
        client.get(INDEX_URL)  # warm the session and caches
        with uncached_queries() as before:
            client.get(INDEX_URL)
        for organisation in organisations:
            acknowledge(isa.latest_version, organisation)
        with uncached_queries() as after:
            client.get(INDEX_URL)
        assert len(after) == len(before)

    def test_export_lists_each_version_with_its_coverage(
        self, tree, coordinator_client
    ):
        _, isa, organisations, _ = tree
        acknowledge(isa.latest_version, organisations[0])
        rows = csv_rows(coordinator_client.get(f"{INDEX_URL}?export=csv"))
        header, *data = rows
        assert header[:3] == ["Title", "Reference", "Version"]
        assert "Coverage" in header and "Current or superseded" in header
        by_title = {row[0]: dict(zip(header, row, strict=True)) for row in data}
        assert by_title["CMARAC ISA"]["Coverage"] == "33%"
        assert by_title["Protocol"]["Coverage"] == "0%"
        assert by_title["CMARAC ISA"]["Current or superseded"] == "Current"
        assert by_title["CMARAC ISA"]["Review"] in {"Not yet due", "Overdue"}

    def test_menu_item_is_offered_to_coordinators_only(self, coordinator_client):
        home = reverse("wagtailadmin_home")
        assert "Agreement coverage" in coordinator_client.get(home).content.decode()
        editor = client_for(UserFactory(roles=["Editors"]))
        assert "Agreement coverage" not in editor.get(home).content.decode()


class TestCoverageScreen:
    def test_statuses_and_percentage(self, tree, coordinator_client):
        _, isa, organisations, _ = tree
        version = isa.latest_version
        signer = signatory_for(organisations[0])
        ack = acknowledge(version, organisations[0], signer)
        response = coordinator_client.get(coverage_url(version))
        assert response.status_code == 200
        page = response.content.decode()
        assert "Coverage: 33%" in page
        assert "1 of 3 signatory organisations" in page
        for organisation in organisations:
            assert organisation.name in page
        assert f"Acknowledged v1.0 on {long_date(ack.acknowledged_at)}" in page
        assert f"{signer.get_full_name()}, Head of service" in page
        assert reverse("agreements:receipt", args=[ack.pk]) in page
        assert page.count("Outstanding, due by") == 2
        assert "?format=csv" in page and "Download CSV" in page

    def test_overdue_organisations_are_shown_since_when(
        self, tree, coordinator_client, settings
    ):
        _, isa, organisations, _ = tree
        acknowledge(isa.latest_version, organisations[0])
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        page = coordinator_client.get(coverage_url(isa.latest_version))
        text = page.content.decode()
        assert text.count("Overdue since") == 2
        assert "Outstanding, due by" not in text

    def test_viewing_is_recorded_once(self, tree, coordinator_client):
        version = tree[1].latest_version
        coordinator_client.get(coverage_url(version))
        assert events("agreement.coverage_viewed", version).count() == 1
        assert not events("agreement.coverage_exported").exists()
        event = events("agreement.coverage_viewed").get()
        assert event.actor_id == tree[3].pk

    def test_unknown_version_is_not_found(self, coordinator_client):
        response = coordinator_client.get(
            reverse("agreements_coverage", args=[999_999])
        )
        assert response.status_code == 404
        assert not events("agreement.coverage_viewed").exists()

    def test_superuser_may_read_coverage(self, tree):
        admin = UserFactory(is_superuser=True, organisation=None)
        response = client_for(admin).get(coverage_url(tree[1].latest_version))
        assert response.status_code == 200

    def test_queries_do_not_grow_with_organisations(self, tree, coordinator_client):
        _, isa, organisations, _ = tree
        version = isa.latest_version
        acknowledge(version, organisations[0])
        coordinator_client.get(coverage_url(version))
        with uncached_queries() as before:
            coordinator_client.get(coverage_url(version))
        acknowledge(version, organisations[1])
        acknowledge(version, organisations[2])
        with uncached_queries() as after:
            coordinator_client.get(coverage_url(version))
        assert len(after) == len(before)


class TestCoverageCsv:
    def test_rows_match_the_screen(self, tree, coordinator_client, settings):
        _, isa, organisations, _ = tree
        version = isa.latest_version
        signer = signatory_for(organisations[1])
        ack = acknowledge(version, organisations[1], signer)
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        response = coordinator_client.get(coverage_url(version, as_csv=True))
        assert response.status_code == 200
        disposition = response["Content-Disposition"]
        assert disposition == 'attachment; filename="coverage-isa-1-v1-0.csv"'
        header, *rows = csv_rows(response)
        assert header == [
            "Organisation",
            "Status",
            "Due by",
            "Date acknowledged",
            "Signatory name",
            "Role",
            "Receipt number",
        ]
        by_name = {row[0]: row for row in rows}
        assert set(by_name) == {o.name for o in organisations}
        acknowledged = by_name[organisations[1].name]
        assert acknowledged[1] == "Acknowledged"
        assert acknowledged[3] == (
            timezone.localtime(ack.acknowledged_at).date().isoformat()
        )
        assert acknowledged[4:] == [signer.get_full_name(), "Head of service", ack.hash]
        for organisation in (organisations[0], organisations[2]):
            assert by_name[organisation.name][1] == "Overdue"
            assert by_name[organisation.name][3:] == ["", "", "", ""]

    def test_export_is_recorded_once(self, tree, coordinator_client):
        version = tree[1].latest_version
        coordinator_client.get(coverage_url(version, as_csv=True))
        assert events("agreement.coverage_exported", version).count() == 1
        assert not events("agreement.coverage_viewed").exists()

    def test_cells_that_would_run_as_formulas_are_neutralised(self):
        risky = OrganisationFactory(name="=HYPERLINK(1)")
        _, isa, _, coordinator = agreement_tree(
            organisations=[risky, OrganisationFactory()]
        )
        signer = UserFactory(
            organisation=risky, first_name="@SUM(1+1)", roles=["Signatories"]
        )
        acknowledge(isa.latest_version, risky, signer)
        response = client_for(coordinator).get(
            coverage_url(isa.latest_version, as_csv=True)
        )
        row = next(r for r in csv_rows(response) if "HYPERLINK" in r[0])
        assert row[0] == "'=HYPERLINK(1)"
        assert row[4].startswith("'@SUM(1+1)")


class TestOnlyCoordinators:
    @pytest.mark.parametrize("roles", [["Referrers"], ["Signatories"], ["Editors"]])
    def test_others_are_refused_and_nothing_is_recorded(self, tree, roles):
        _, isa, organisations, _ = tree
        person = UserFactory(organisation=organisations[0], roles=roles)
        client = client_for(person)
        version = isa.latest_version
        for url in (
            INDEX_URL,
            f"{INDEX_URL}?export=csv",
            coverage_url(version),
            coverage_url(version, as_csv=True),
        ):
            response = client.get(url)
            assert response.status_code in (302, 403), (roles, url)
            assert not response.get("Content-Type", "").startswith("text/csv")
        assert not events("agreement.coverage_viewed").exists()
        assert not events("agreement.coverage_exported").exists()

    def test_inactive_coordinator_is_refused(self, tree):
        _, isa, _, coordinator = tree
        assert client_for(coordinator).get(INDEX_URL).status_code == 200
        coordinator.is_active = False
        coordinator.save()
        response = client_for(coordinator).get(coverage_url(isa.latest_version))
        assert response.status_code in (302, 403)


class TestVersionsStayFrozen:
    def test_no_create_edit_or_delete_route_works(self, tree, coordinator_client):
        admin_client = client_for(UserFactory(is_superuser=True, organisation=None))
        version = tree[1].latest_version
        before = list(AgreementVersion.objects.values_list("pk", "title"))
        for client in (coordinator_client, admin_client):
            urls = [
                f"{INDEX_URL}create/",
                f"{INDEX_URL}edit/{version.pk}/",
                f"{INDEX_URL}delete/{version.pk}/",
                f"{INDEX_URL}inspect/{version.pk}/",
                f"{INDEX_URL}history/{version.pk}/",
            ]
            for url in urls:
                for method in ("get", "post"):
                    response = getattr(client, method)(url, {"title": "Changed"})
                    assert response.status_code in (302, 403, 404), (method, url)
                    if response.status_code == 302:
                        assert response["Location"] == reverse("wagtailadmin_home")
        assert list(AgreementVersion.objects.values_list("pk", "title")) == before

    def test_list_offers_no_add_edit_or_delete_buttons(self, tree, coordinator_client):
        version = tree[1].latest_version
        page = coordinator_client.get(INDEX_URL).content.decode()
        assert f"{INDEX_URL}create/" not in page
        assert f"{INDEX_URL}edit/{version.pk}/" not in page
        assert f"{INDEX_URL}delete/{version.pk}/" not in page
