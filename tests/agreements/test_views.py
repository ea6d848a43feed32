"""What partners see: the agreements, acknowledging, receipts and PDFs."""

import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from agreements.models import Acknowledgement
from audit.models import AuditEvent
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.agreements import (
    acknowledge,
    agreement_tree,
    publish_change,
    signatory_for,
)

pytestmark = pytest.mark.django_db


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def tree():
    return agreement_tree()


@pytest.fixture
def signer(tree):
    return signatory_for(tree[2][0])


class TestPartnersView:
    def test_index_lists_agreements_with_my_organisations_status(self, tree, signer):
        page = verified_client_for(signer).get("/agreements/").content.decode()
        assert "Protocol" in page and "CMARAC ISA" in page
        assert page.count('govuk-tag--yellow">Outstanding') == 2

    def test_agreement_page_shows_clauses_hash_and_history(self, tree, signer):
        _, isa, _, coordinator = tree
        publish_change(isa, coordinator, number="1.1", summary="Tidied wording.")
        page = verified_client_for(signer).get(isa.url).content.decode()
        assert "Kept for two years after closure." in page
        assert isa.latest_version.content_hash in page
        assert "Tidied wording." in page
        assert "Superseded" in page and "Current" in page
        assert reverse("agreements:acknowledge", args=[isa.latest_version.pk]) in page

    def test_earlier_version_is_readable_and_marked_superseded(self, tree, signer):
        _, isa, _, coordinator = tree
        publish_change(isa, coordinator, number="2.0")
        page = (
            verified_client_for(signer).get(f"{isa.url}?version=1.0").content.decode()
        )
        assert "which has been superseded" in page
        assert "Read the current version (2.0)" in page

    def test_changes_page_compares_with_the_version_before(self, tree, signer):
        _, isa, _, coordinator = tree

        def edit(draft):
            data = list(draft.clauses.raw_data)
            data[1]["value"]["body"] = "<p>Kept for one year after closure.</p>"
            draft.clauses = data

        isa = publish_change(isa, coordinator, number="2.0", edit=edit)
        url = reverse("agreements:changes", args=[isa.latest_version.pk])
        page = verified_client_for(signer).get(url).content.decode()
        assert "<del>two years</del>" in page
        assert "<ins>one year</ins>" in page

    @pytest.mark.slow
    def test_agreement_pdf_has_the_text_hash_and_signatory_table(self, tree, signer):
        _, isa, organisations, _ = tree
        acknowledge(isa.latest_version, organisations[0], signer)
        url = reverse("agreements:pdf", args=[isa.latest_version.pk])
        response = verified_client_for(signer).get(url)
        text = pdf_text(response)
        assert "CMARAC ISA" in text
        assert "Kept for two years after closure." in text
        assert isa.latest_version.content_hash[:32] in text.replace("\n", "")
        flowing = " ".join(text.split())
        assert organisations[0].name in flowing and "Acknowledged" in flowing
        assert "OFFICIAL-SENSITIVE" in text and "Page 1 of" in text
        assert AuditEvent.objects.filter(action="agreement.pdf_downloaded").count() == 1


class TestAcknowledgingJourney:
    def test_signatory_confirms_and_gets_a_receipt(self, tree, signer):
        _, isa, organisations, _ = tree
        client = verified_client_for(signer)
        url = reverse("agreements:acknowledge", args=[isa.latest_version.pk])
        form = client.get(url).content.decode()
        assert signer.get_full_name() in form  # name prefilled
        response = client.post(
            url,
            {"confirm": "on", "signatory_name": "Pat Signer", "signatory_role": "Head"},
        )
        ack = Acknowledgement.objects.get()
        assert response["Location"] == reverse("agreements:receipt", args=[ack.pk])
        receipt = client.get(response["Location"]).content.decode()
        assert "Acknowledgement recorded" in receipt
        assert ack.hash in receipt
        assert ack.organisation == organisations[0]

    def test_missing_confirmation_keeps_what_was_typed(self, tree, signer):
        _, isa, _, _ = tree
        url = reverse("agreements:acknowledge", args=[isa.latest_version.pk])
        response = verified_client_for(signer).post(
            url, {"signatory_name": "Pat Typed", "signatory_role": ""}
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert "Confirm that your organisation agrees" in page
        assert "Enter your job title" in page
        assert 'value="Pat Typed"' in page
        assert not Acknowledgement.objects.exists()

    def test_second_signatory_sees_who_already_acknowledged(self, tree, signer):
        _, isa, organisations, _ = tree
        acknowledge(isa.latest_version, organisations[0], signer)
        colleague = signatory_for(organisations[0])
        client = verified_client_for(colleague)
        url = reverse("agreements:acknowledge", args=[isa.latest_version.pk])
        response = client.post(
            url,
            {"confirm": "on", "signatory_name": "B", "signatory_role": "C"},
            follow=True,
        )
        page = response.content.decode()
        assert f"{signer.get_full_name()} already acknowledged version 1.0" in page
        assert Acknowledgement.objects.count() == 1

    def test_superseded_version_is_refused_with_a_reason(self, tree, signer):
        _, isa, _, coordinator = tree
        old = isa.latest_version
        publish_change(isa, coordinator, number="2.0")
        url = reverse("agreements:acknowledge", args=[old.pk])
        response = verified_client_for(signer).post(
            url, {"confirm": "on", "signatory_name": "A", "signatory_role": "B"}
        )
        assert response.status_code == 403
        assert "has been replaced by version 2.0" in response.content.decode()

    def test_referrer_is_told_only_signatories_may_acknowledge(self, tree):
        _, isa, organisations, _ = tree
        referrer = UserFactory(organisation=organisations[0], roles=["Referrers"])
        url = reverse("agreements:acknowledge", args=[isa.latest_version.pk])
        response = verified_client_for(referrer).get(url)
        assert response.status_code == 403
        assert "Only a named signatory" in response.content.decode()


class TestReceipts:
    @pytest.mark.slow
    def test_receipt_pdf_holds_version_hash_and_receipt_number(self, tree, signer):
        _, isa, organisations, _ = tree
        ack = acknowledge(isa.latest_version, organisations[0], signer)
        url = reverse("agreements:receipt_pdf", args=[ack.pk])
        text = pdf_text(verified_client_for(signer).get(url)).replace("\n", "")
        assert "Version1.0" in text.replace(" ", "")
        assert ack.content_hash[:24] in text
        assert ack.hash[:24] in text
        assert AuditEvent.objects.filter(
            action="agreement.receipt_downloaded", object_id=str(ack.pk)
        ).exists()

    def test_another_organisation_cannot_see_a_receipt(self, tree, signer):
        _, isa, organisations, _ = tree
        ack = acknowledge(isa.latest_version, organisations[0], signer)
        outsider = verified_client_for(signatory_for(organisations[1]))
        assert (
            outsider.get(reverse("agreements:receipt", args=[ack.pk])).status_code
            == 404
        )
        assert (
            outsider.get(reverse("agreements:receipt_pdf", args=[ack.pk])).status_code
            == 404
        )

    def test_coordinator_can_see_any_receipt(self, tree, signer):
        _, isa, organisations, coordinator = tree
        ack = acknowledge(isa.latest_version, organisations[0], signer)
        response = verified_client_for(coordinator).get(
            reverse("agreements:receipt", args=[ack.pk])
        )
        assert response.status_code == 200

    def test_verification_says_genuine_and_what_it_records(self, tree, signer):
        _, isa, organisations, _ = tree
        ack = acknowledge(isa.latest_version, organisations[0], signer)
        url = reverse("agreements:verify_receipt")
        page = (
            verified_client_for(signer)
            .get(url, {"receipt": ack.hash.upper()})
            .content.decode()
        )
        assert "This receipt is genuine" in page
        assert organisations[0].name in page
        assert "1.0" in page

    def test_unknown_receipt_is_not_genuine(self, tree, signer):
        url = reverse("agreements:verify_receipt")
        page = (
            verified_client_for(signer).get(url, {"receipt": "a" * 64}).content.decode()
        )
        assert "This receipt is not genuine" in page

    def test_malformed_receipt_number_is_explained(self, tree, signer):
        url = reverse("agreements:verify_receipt")
        page = verified_client_for(signer).get(url, {"receipt": "xyz"}).content.decode()
        assert "There is a problem" in page
        assert "A receipt number is 64 characters" in page
        assert 'value="xyz"' in page


class TestHomePage:
    def test_signatory_sees_what_to_acknowledge(self, tree, signer):
        page = verified_client_for(signer).get("/").content.decode()
        assert "Agreements to acknowledge" in page
        assert re.search(r"CMARAC ISA, version 1\.0", page)

    def test_referrer_is_not_asked_to_acknowledge(self, tree):
        referrer = UserFactory(organisation=tree[2][0], roles=["Referrers"])
        assert (
            "Agreements to acknowledge"
            not in verified_client_for(referrer).get("/").content.decode()
        )

    def test_coordinator_sees_overdue_reviews(self, tree):
        _, isa, _, coordinator = tree
        # agreement_tree's first review is a year after 6 January 2026.
        page = verified_client_for(coordinator).get("/").content.decode()
        overdue = isa.latest_version.review_overdue()
        assert ("overdue for review" in page) == overdue


class TestCaseMaterialGate:
    """The gate in front of every case route, seen through one of them."""

    def test_overdue_organisation_is_told_why_and_who_can_fix_it(self, tree, settings):
        _, _, organisations, _ = tree
        signer = signatory_for(organisations[0])
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        referrer = UserFactory(organisation=organisations[0], roles=["Referrers"])
        response = verified_client_for(referrer).get(reverse("referrals:index"))
        assert response.status_code == 403
        page = response.content.decode()
        assert "Case material is closed to you" in page
        assert "has not acknowledged version 1.0 of CMARAC ISA" in page
        assert signer.get_full_name() in page

    def test_acknowledged_organisation_gets_through(self, tree, settings):
        _, isa, organisations, _ = tree
        acknowledge(isa.latest_version, organisations[0])
        settings.AGREEMENT_ACKNOWLEDGEMENT_GRACE_DAYS = -1
        referrer = UserFactory(organisation=organisations[0], roles=["Referrers"])
        response = verified_client_for(referrer).get(reverse("referrals:index"))
        assert response.status_code == 200
