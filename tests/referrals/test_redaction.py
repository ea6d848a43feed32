"""What other agencies see of a protected referral: its attached files and its
free text (docs/features.md, "Who sees what").

Agency A refers, B is invited (a share) and C's coordinator screens. A file
kept to "the referring agency and coordinators only" is never listed, named or
downloadable for B: not on the case page, its PDF or B's meeting pack. A
referral marked "do not disclose" or "anonymous source" is accepted only after
a coordinator checks its free text, and a partner summary replaces the free
text for B while A and the coordinator still read the original.
"""

import html
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader

from audit.models import AuditEvent, Outcome
from meetings.services import pack_download, papers_issue
from referrals.models import AttachmentVisibility, ReferralFreeTextReview, Status
from referrals.selectors import attachments_visible_to
from referrals.services import (
    FREE_TEXT_REVIEW_NEEDED,
    ReferralRefused,
    attachment_add,
    free_text_review_record,
    referral_submit,
    referral_transition,
)
from tests.conftest import verified_client_for
from tests.factories import three_agencies
from tests.factories.documents import PDF
from tests.factories.meetings import accepted, confirmed, meeting, on_agenda
from tests.factories.referrals import complete_answers, complete_draft, share

pytestmark = pytest.mark.django_db

RESTRICTED_NAME = "statement-of-wendy-witness.pdf"
SHARED_NAME = "housing-risk-matrix.pdf"
FREE_TEXT = "Front door kicked in the night."
SUMMARY = "Escalating damage to a resident's home; warnings have not worked."


def _upload(name):
    return SimpleUploadedFile(name, PDF, "application/pdf")


def _text(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


@pytest.fixture
def world():
    people = three_agencies()
    author = people[("A", "Referrer")]
    draft = complete_draft(author, complete_answers(do_not_disclose=True))
    attachment_add(
        draft=draft,
        upload=_upload(RESTRICTED_NAME),
        user=author,
        visibility=AttachmentVisibility.RESTRICTED,
    )
    attachment_add(
        draft=draft,
        upload=_upload(SHARED_NAME),
        user=author,
        visibility=AttachmentVisibility.SHARED,
    )
    referral, _ = referral_submit(draft=draft, user=author)
    share(referral, people[("B", "Referrer")].organisation)
    return {
        "people": people,
        "referral": referral,
        "restricted": referral.attachments.get(original_name=RESTRICTED_NAME),
        "shared": referral.attachments.get(original_name=SHARED_NAME),
    }


def _client(world, key):
    return verified_client_for(world["people"][key])


def _page(world, key) -> str:
    response = _client(world, key).get(world["referral"].get_absolute_url())
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _pdf(world, key) -> str:
    url = reverse("referrals:pdf", args=[world["referral"].reference])
    response = _client(world, key).get(url)
    assert response.status_code == 200
    return _text(response.content)


def _download(world, key, item):
    url = reverse("referrals:attachment", args=[world["referral"].reference, item.pk])
    return _client(world, key).get(url)


EVERYTHING = [("A", "Referrer"), ("C", "Coordinator")]
INVITED = ("B", "Referrer")


class TestAttachmentVisibility:
    def test_the_invited_agency_sees_only_the_shared_file_on_the_case_page(self, world):
        page = _page(world, INVITED)
        assert SHARED_NAME in page
        assert RESTRICTED_NAME not in page
        restricted_url = reverse(
            "referrals:attachment",
            args=[world["referral"].reference, world["restricted"].pk],
        )
        assert restricted_url not in page

    @pytest.mark.parametrize("key", EVERYTHING)
    def test_the_referrer_and_coordinators_see_both_files(self, world, key):
        page = _page(world, key)
        assert SHARED_NAME in page
        assert RESTRICTED_NAME in page

    def test_the_attachment_list_holds_only_what_each_may_see(self, world):
        referral = world["referral"]
        invited = world["people"][INVITED]
        assert list(attachments_visible_to(invited, referral)) == [world["shared"]]
        for key in EVERYTHING:
            person = world["people"][key]
            assert set(attachments_visible_to(person, referral)) == {
                world["shared"],
                world["restricted"],
            }

    def test_the_invited_agency_cannot_download_the_restricted_file(self, world):
        response = _download(world, INVITED, world["restricted"])
        assert response.status_code == 404
        assert RESTRICTED_NAME not in response.content.decode()
        denied = AuditEvent.objects.get(action="referral.attachment_download_denied")
        assert denied.outcome == Outcome.DENIED
        assert denied.actor == world["people"][INVITED]
        assert denied.object_id == str(world["restricted"].pk)
        assert not AuditEvent.objects.filter(
            action="referral.attachment_downloaded"
        ).exists()

    def test_the_invited_agency_downloads_the_shared_file(self, world):
        response = _download(world, INVITED, world["shared"])
        assert response.status_code == 200
        assert SHARED_NAME in response["Content-Disposition"]

    @pytest.mark.parametrize("key", EVERYTHING)
    def test_the_referrer_and_coordinators_download_the_restricted_file(
        self, world, key
    ):
        response = _download(world, key, world["restricted"])
        assert response.status_code == 200

    @pytest.mark.slow
    def test_the_summary_pdf_names_only_the_shared_file_for_the_invited_agency(
        self, world
    ):
        text = _pdf(world, INVITED)
        assert SHARED_NAME in text
        assert RESTRICTED_NAME not in text
        assert RESTRICTED_NAME in _pdf(world, ("A", "Referrer"))

    @pytest.mark.slow
    def test_the_meeting_pack_names_only_the_shared_file_for_the_invited_agency(
        self, world, django_capture_on_commit_callbacks
    ):
        people = world["people"]
        boss = people[("C", "Coordinator")]
        referral = accepted(
            world["referral"], boss, summary=SUMMARY
        )  # flagged: checked first
        police = people[INVITED].organisation
        upcoming = meeting(boss)
        on_agenda(upcoming, referral, [police], boss)
        with django_capture_on_commit_callbacks(execute=True):
            papers_issue(meeting=upcoming, user=boss)
        pack = pack_download(
            meeting=upcoming,
            organisation=police,
            user=confirmed(upcoming, people[INVITED]),
        )
        text = _text(b"".join(pack.chunks))
        assert SHARED_NAME in text
        assert RESTRICTED_NAME not in text
        own = pack_download(
            meeting=upcoming,
            organisation=people[("A", "Referrer")].organisation,
            user=confirmed(upcoming, people[("A", "Referrer")]),
        )
        assert RESTRICTED_NAME in _text(b"".join(own.chunks))


class TestTheUploadQuestion:
    def _risk_page(self, client, draft):
        url = reverse("referrals:section", args=[draft.public_id, "risk"])
        return html.unescape(client.get(url).content.decode())

    def _checked(self, page) -> str:
        for value in AttachmentVisibility.values:
            marker = f'value="{value}" checked'
            if marker in page:
                return value
        return ""

    @pytest.mark.parametrize("flag", ["do_not_disclose", "anonymous_source"])
    def test_the_default_is_restricted_when_the_referral_protects_someone(self, flag):
        people = three_agencies()
        author = people[("A", "Referrer")]
        draft = complete_draft(author, complete_answers(**{flag: True}))
        page = self._risk_page(verified_client_for(author), draft)
        assert "Who can see the file?" in page
        assert self._checked(page) == AttachmentVisibility.RESTRICTED

    def test_the_default_is_shared_otherwise(self):
        author = three_agencies()[("A", "Referrer")]
        draft = complete_draft(author)
        page = self._risk_page(verified_client_for(author), draft)
        assert self._checked(page) == AttachmentVisibility.SHARED

    def test_a_file_without_an_answer_is_refused_by_the_question(self):
        author = three_agencies()[("A", "Referrer")]
        draft = complete_draft(author)
        url = reverse("referrals:section", args=[draft.public_id, "risk"])
        data = {
            name: values if len(values) != 1 else values[0]
            for name, values in complete_answers()["risk"].items()
        }
        response = verified_client_for(author).post(
            url, {**data, "action": "save", "risk_assessment": _upload("a.pdf")}
        )
        assert response.status_code == 400
        page = html.unescape(response.content.decode())
        assert "There is a problem" in page
        assert "Select who can see the file" in page
        assert not draft.attachments.exists()

    def test_the_service_defaults_to_restricted_on_a_protected_draft(self):
        author = three_agencies()[("A", "Referrer")]
        draft = complete_draft(author, complete_answers(anonymous_source=True))
        item = attachment_add(draft=draft, upload=_upload("a.pdf"), user=author)
        assert item.visibility == AttachmentVisibility.RESTRICTED


def _screening(world):
    boss = world["people"][("C", "Coordinator")]
    return boss, referral_transition(
        referral=world["referral"],
        to_status=Status.SCREENING,
        user=boss,
        expected_status=Status.SUBMITTED,
    )


class TestScreeningTheFreeText:
    def test_a_protected_referral_cannot_be_accepted_unchecked(self, world):
        boss, referral = _screening(world)
        with pytest.raises(ReferralRefused, match="free-text answers"):
            referral_transition(
                referral=referral,
                to_status=Status.ACCEPTED,
                user=boss,
                expected_status=Status.SCREENING,
            )
        referral.refresh_from_db()
        assert referral.status == Status.SCREENING

    def test_the_case_page_says_why_and_links_to_the_check(self, world):
        boss, referral = _screening(world)
        client = verified_client_for(boss)
        response = client.post(
            reverse("referrals:change_status", args=[referral.reference]),
            {"to_status": Status.ACCEPTED, "expected_status": Status.SCREENING},
        )
        assert response.status_code == 400
        page = html.unescape(response.content.decode())
        assert f'<a href="#free-text-kind-confirmed">{FREE_TEXT_REVIEW_NEEDED}' in page
        referral.refresh_from_db()
        assert referral.status == Status.SCREENING

    def test_confirming_through_the_page_lets_it_be_accepted(self, world):
        boss, referral = _screening(world)
        client = verified_client_for(boss)
        client.post(
            reverse("referrals:free_text_review", args=[referral.reference]),
            {"kind": "confirmed"},
        )
        review = ReferralFreeTextReview.objects.get(referral=referral)
        assert review.reviewed_by == boss
        assert review.reviewed_at is not None
        assert AuditEvent.objects.filter(
            action="referral.free_text_reviewed", actor=boss
        ).exists()
        client.post(
            reverse("referrals:change_status", args=[referral.reference]),
            {"to_status": Status.ACCEPTED, "expected_status": Status.SCREENING},
        )
        referral.refresh_from_db()
        assert referral.status == Status.ACCEPTED

    def test_a_summary_must_have_words(self, world):
        boss, referral = _screening(world)
        client = verified_client_for(boss)
        response = client.post(
            reverse("referrals:free_text_review", args=[referral.reference]),
            {"kind": "summary", "summary": "   "},
        )
        assert response.status_code == 400
        page = html.unescape(response.content.decode())
        assert "Enter the summary for partner agencies" in page
        assert not ReferralFreeTextReview.objects.exists()

    def test_only_coordinators_check_the_free_text(self, world):
        author = world["people"][("A", "Referrer")]
        with pytest.raises(ReferralRefused):
            free_text_review_record(
                referral=world["referral"], user=author, kind="confirmed"
            )
        response = _client(world, ("A", "Referrer")).post(
            reverse("referrals:free_text_review", args=[world["referral"].reference]),
            {"kind": "confirmed"},
        )
        assert response.status_code == 404
        assert not ReferralFreeTextReview.objects.exists()


class TestThePartnerSummary:
    @pytest.fixture
    def summarised(self, world):
        boss, referral = _screening(world)
        free_text_review_record(
            referral=referral, user=boss, kind="summary", summary=SUMMARY
        )
        return world

    @pytest.mark.slow
    def test_the_invited_agency_reads_the_summary_not_the_free_text(self, summarised):
        page = _page(summarised, INVITED)
        assert SUMMARY in page
        assert FREE_TEXT not in page
        assert "From noise to damage to her door." not in page
        assert "Withheld: see the coordinator's summary" in page
        text = _pdf(summarised, INVITED)
        assert SUMMARY in text
        assert FREE_TEXT not in text

    @pytest.mark.parametrize("key", [("A", "Referrer")])
    @pytest.mark.slow
    def test_the_referrer_reads_the_original(self, summarised, key):
        page = _page(summarised, key)
        assert FREE_TEXT in page
        assert FREE_TEXT in _pdf(summarised, key)

    def test_the_coordinator_reads_the_original_and_the_summary(self, summarised):
        page = _page(summarised, ("C", "Coordinator"))
        assert FREE_TEXT in page
        assert SUMMARY in page  # in the check block, to review it

    @pytest.mark.slow
    def test_the_meeting_pack_carries_the_summary_for_the_invited_agency(
        self, summarised, django_capture_on_commit_callbacks
    ):
        people = summarised["people"]
        boss = people[("C", "Coordinator")]
        referral = referral_transition(
            referral=summarised["referral"],
            to_status=Status.ACCEPTED,
            user=boss,
            expected_status=Status.SCREENING,
        )
        police = people[INVITED].organisation
        upcoming = meeting(boss)
        on_agenda(upcoming, referral, [police], boss)
        with django_capture_on_commit_callbacks(execute=True):
            papers_issue(meeting=upcoming, user=boss)
        pack = pack_download(
            meeting=upcoming,
            organisation=police,
            user=confirmed(upcoming, people[INVITED]),
        )
        text = _text(b"".join(pack.chunks))
        assert SUMMARY in text
        assert FREE_TEXT not in text
        own = pack_download(
            meeting=upcoming,
            organisation=people[("A", "Referrer")].organisation,
            user=confirmed(upcoming, people[("A", "Referrer")]),
        )
        assert FREE_TEXT in _text(b"".join(own.chunks))
