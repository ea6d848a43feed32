"""The referral summary PDF: what each reader gets, and that it is recorded."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from accounts.models import Role
from audit.models import AuditEvent
from referrals.models import Referral, Status
from referrals.services import referral_transition
from tests.conftest import verified_client_for
from tests.factories import UserFactory
from tests.factories.referrals import share, submitted_referral

pytestmark = pytest.mark.django_db

VICTIM_PHONE = "07700 900 982"


def pdf_url(referral):
    return reverse("referrals:pdf", args=[referral.reference])


def pdf_pages(response) -> list[str]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    # Table cells wrap; join the lines so phrases can be looked for whole.
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def pdf_text(response) -> str:
    return " ".join(pdf_pages(response))


def downloads(referral):
    return AuditEvent.objects.filter(
        action="referral.pdf_downloaded",
        object_type="referrals.referral",
        object_id=str(referral.pk),
    )


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER], first_name="Robin", last_name="Reed")


class TestReferringOrganisation:
    @pytest.mark.slow
    def test_summary_of_every_section(self, referrer):
        referral = submitted_referral(user=referrer, urgent=True)
        response = verified_client_for(referrer).get(pdf_url(referral))
        assert response["Content-Disposition"] == (
            f'attachment; filename="{referral.reference}-summary.pdf"'
        )
        text = pdf_text(response)
        assert f"Referral {referral.reference}" in text
        assert "Status Submitted" in text
        assert f"Referring organisation {referral.organisation.name}" in text
        assert f"{timezone.localtime(referral.submitted_at):%-d %B %Y}" in text
        assert "Urgent Yes: risk of serious harm before the next meeting" in text
        for heading in ("Eligibility", "About you", "People", "Person 1",
                        "Consent and lawful basis"):  # fmt: skip
            assert heading in text, heading
        assert "Full name Alex Example" in text
        assert VICTIM_PHONE in text
        assert "Withheld" not in text

    @pytest.mark.slow
    def test_marked_and_addressed_to_the_reader(self, referrer):
        referral = submitted_referral(user=referrer)
        pages = pdf_pages(verified_client_for(referrer).get(pdf_url(referral)))
        footer = (
            f"OFFICIAL-SENSITIVE. Prepared for Robin Reed, "
            f"{referrer.organisation.name} on {timezone.localdate():%-d %B %Y}"
        )
        assert len(pages) > 1
        for number, page in enumerate(pages, start=1):
            # The marking heads every page; the footer names the reader.
            assert page.count("OFFICIAL-SENSITIVE") == 2, number
            assert f"{footer} Page {number} of {len(pages)}" in page, number

    @pytest.mark.slow
    def test_history_is_included(self, referrer):
        referral = submitted_referral(user=referrer)
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        referral_transition(
            referral=referral,
            to_status=Status.SCREENING,
            expected_status=Status.SUBMITTED,
            user=coordinator,
        )
        text = pdf_text(verified_client_for(referrer).get(pdf_url(referral)))
        assert "History" in text
        assert "Status changed: Submitted to Screening" in text

    @pytest.mark.slow
    def test_download_is_recorded(self, referrer):
        referral = submitted_referral(user=referrer)
        verified_client_for(referrer).get(pdf_url(referral))
        event = downloads(referral).get()
        assert event.actor_id == referrer.pk
        assert event.detail == {"redacted": False}

    @pytest.mark.slow
    def test_a_name_cannot_break_out_of_the_page_text(self, referrer):
        referrer.first_name = '"); } body { display: none } <b>'
        referrer.save()
        referral = submitted_referral(user=referrer)
        text = pdf_text(verified_client_for(referrer).get(pdf_url(referral)))
        assert "display: none } <b> Reed" in text
        assert "Alex Example" in text


class TestSharedOrganisation:
    @pytest.mark.slow
    def test_flagged_details_are_withheld(self):
        referral = submitted_referral(do_not_disclose=True)
        reader = UserFactory(roles=[Role.REFERRER])
        share(referral, reader.organisation)
        text = pdf_text(verified_client_for(reader).get(pdf_url(referral)))
        assert referral.reference in text
        assert VICTIM_PHONE not in text
        assert "Flat 3, 12 Example Road" not in text
        assert "Withheld: not to be disclosed to the person causing harm" in text
        assert "Some details are withheld" in text
        # History is for the referring organisation and coordinators.
        assert "History" not in text
        assert downloads(referral).get().detail == {"redacted": True}

    @pytest.mark.slow
    def test_unflagged_referral_is_shown_in_full(self):
        referral = submitted_referral()
        reader = UserFactory(roles=[Role.REFERRER])
        share(referral, reader.organisation)
        text = pdf_text(verified_client_for(reader).get(pdf_url(referral)))
        assert VICTIM_PHONE in text
        assert "Withheld" not in text

    def test_unshared_organisation_is_not_found(self):
        referral = submitted_referral(do_not_disclose=True)
        stranger = UserFactory(roles=[Role.REFERRER])
        response = verified_client_for(stranger).get(pdf_url(referral))
        assert response.status_code == 404
        assert not response["Content-Type"].startswith("application/pdf")
        assert not downloads(referral).exists()


class TestCoordinator:
    @pytest.mark.slow
    def test_sees_everything_and_earlier_referrals(self):
        earlier = submitted_referral()
        later = submitted_referral(do_not_disclose=True)
        Referral.objects.filter(pk=earlier.pk).update(
            submitted_at=later.submitted_at - timedelta(days=20)
        )
        coordinator = UserFactory(roles=[Role.COORDINATOR])
        text = pdf_text(verified_client_for(coordinator).get(pdf_url(later)))
        assert VICTIM_PHONE in text
        assert "Withheld" not in text
        assert "Earlier referrals about the same people" in text
        assert earlier.reference in text
