"""The referral form as a person uses it: pages, saving, check answers, submit."""

import html
import re
import socket
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AuditEvent
from referrals.forms import SECTIONS
from referrals.models import (
    Referral,
    ReferralAttachment,
    ReferralDraft,
    SectionState,
    Status,
)
from referrals.services import attachment_add, referral_submit
from tests.conftest import verified_client_for
from tests.documents.clamd import eicar_bytes
from tests.factories import UserFactory
from tests.factories.documents import PDF
from tests.factories.referrals import (
    complete_answers,
    complete_draft,
    share,
    submitted_referral,
)

pytestmark = pytest.mark.django_db


def _flat(raw: dict) -> dict:
    """Raw answers as a test client POST body."""
    return {name: values if len(values) != 1 else values[0]
            for name, values in raw.items()}  # fmt: skip


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER], job_title="ASB officer")


@pytest.fixture
def client(referrer):
    return verified_client_for(referrer)


def _start(client) -> ReferralDraft:
    response = client.post(reverse("referrals:start"))
    assert response.status_code == 302
    return ReferralDraft.objects.latest("pk")


def _section_url(draft, slug, query=""):
    return reverse("referrals:section", args=[draft.public_id, slug]) + query


class TestJourney:
    def test_fill_in_every_section_check_and_submit(self, client, referrer):
        draft = _start(client)
        page = client.get(reverse("referrals:task_list", args=[draft.public_id]))
        assert page.status_code == 200
        assert b"Not yet started" in page.content
        for section in SECTIONS:
            url = _section_url(draft, section.slug)
            assert client.get(url).status_code == 200
            response = client.post(
                url, {**_flat(complete_answers()[section.slug]), "action": "save"}
            )
            assert response.status_code == 302, response.content.decode()[:3000]
        check = client.get(reverse("referrals:check", args=[draft.public_id]))
        assert b"Alex Example" in check.content
        assert b"Not complete" not in check.content
        response = client.post(
            reverse("referrals:check", args=[draft.public_id]), {"confirm": "on"}
        )
        referral = Referral.objects.get()
        assert response.url == reverse("referrals:submitted", args=[referral.reference])
        confirmation = client.get(response.url)
        assert referral.reference.encode() in confirmation.content
        detail = client.get(referral.get_absolute_url())
        assert detail.status_code == 200
        assert b"Alex Example" in detail.content


class TestSavingAsYouGo:
    def test_a_mistake_is_explained_and_nothing_typed_is_lost(self, client):
        draft = _start(client)
        raw = complete_answers()["people"]
        raw["people-0-postcode"] = ["not a postcode"]
        raw["people-0-date_of_birth_1"] = [""]
        response = client.post(_section_url(draft, "people"), {**_flat(raw)})
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert 'href="#id_people-0-postcode"' in page
        assert "Person 1: Enter a full UK postcode, like AA3 1AB" in page
        assert 'href="#id_people-0-date_of_birth_0"' in page
        assert "Date of birth must include a month" in page
        assert 'value="not a postcode"' in page
        assert 'value="Alex Example"' in page
        draft.refresh_from_db()
        assert draft.state("people") == SectionState.IN_PROGRESS
        assert draft.answers["people"]["people-0-postcode"] == ["not a postcode"]

    def test_a_draft_survives_signing_out_and_in_again(self, client, referrer):
        draft = _start(client)
        client.post(
            _section_url(draft, "actions"),
            {"actions": "Two warning letters.", "action": "later"},
        )
        client.post(reverse("accounts:logout"))
        assert client.get(_section_url(draft, "actions")).status_code == 302
        referrer.refresh_from_db()  # signing out ended every session it had
        again = verified_client_for(referrer)
        index = again.get(reverse("referrals:index")).content.decode()
        assert str(draft.public_id) in index
        page = again.get(_section_url(draft, "actions")).content.decode()
        assert "Two warning letters." in page
        # Coming back to an unfinished page shows it calmly, without errors.
        assert "There is a problem" not in page

    def test_autosave_keeps_the_page_and_answers_briefly(self, client):
        draft = _start(client)
        response = client.post(
            _section_url(draft, "actions"),
            {"victim_wants": "To sleep at night.", "action": "autosave"},
        )
        assert response.json() == {"saved": True, "complete": False, "revision": 1}
        draft.refresh_from_db()
        assert draft.answers["actions"]["victim_wants"] == ["To sleep at night."]
        assert AuditEvent.objects.filter(action="referral.draft_autosaved").exists()


class TestRepeatableItemsWithoutJavaScript:
    def test_add_and_remove_people(self, client):
        draft = _start(client)
        url = _section_url(draft, "people")
        raw = complete_answers()["people"]
        response = client.post(url, {**_flat(raw), "action": "add-people"})
        assert response.status_code == 302
        assert response.url.endswith("#people-1")
        page = client.get(url).content.decode()
        assert "Person 2" in page
        assert "There is a problem" not in page
        draft.refresh_from_db()
        raw = draft.answers["people"]
        raw["people-1-full_name"] = ["Second Person"]
        client.post(url, {**_flat(raw), "remove": "people-0"})
        draft.refresh_from_db()
        assert draft.answers["people"]["people-TOTAL_FORMS"] == ["1"]
        assert draft.answers["people"]["people-0-full_name"] == ["Second Person"]

    def test_pressing_enter_saves_rather_than_removing(self, client):
        draft = _start(client)
        page = client.get(_section_url(draft, "people")).content.decode()
        first_button = page.index("<button", page.index('<form method="post"'))
        assert 'value="save"' in page[first_button : first_button + 120]


class TestCheckAnswers:
    def test_change_link_returns_to_check_answers(self, client, referrer):
        draft = complete_draft(referrer)
        check = client.get(reverse("referrals:check", args=[draft.public_id]))
        change = f"{_section_url(draft, 'risk')}?return=check#id_risk_level_0"
        assert change.replace("&", "&amp;") in check.content.decode()
        raw = {**_flat(complete_answers()["risk"]), "risk_level": "medium"}
        response = client.post(
            _section_url(draft, "risk", "?return=check"),
            {**raw, "return_to": "check", "action": "save"},
        )
        assert response.url == reverse("referrals:check", args=[draft.public_id])
        page = client.get(response.url).content.decode()
        assert "Medium" in page

    def test_submitting_an_incomplete_draft_lists_what_is_missing(self, client):
        draft = _start(client)
        response = client.post(
            reverse("referrals:check", args=[draft.public_id]), {"confirm": "on"}
        )
        page = response.content.decode()
        assert "There is a problem" in page
        assert "Complete the section: Eligibility" in page
        assert not Referral.objects.exists()

    def test_the_declaration_is_required(self, client, referrer):
        draft = complete_draft(referrer)
        response = client.post(reverse("referrals:check", args=[draft.public_id]))
        assert "Confirm the information is accurate" in response.content.decode()
        assert not Referral.objects.exists()

    def test_a_double_click_makes_one_referral(self, client, referrer):
        draft = complete_draft(referrer)
        url = reverse("referrals:check", args=[draft.public_id])
        first = client.post(url, {"confirm": "on"})
        second = client.post(url, {"confirm": "on"})
        assert Referral.objects.count() == 1
        assert first.url == second.url
        # Going back to any page of the submitted draft leads to the referral.
        page = client.get(_section_url(draft, "people"))
        assert page.url == first.url


class TestScreeningOnTheCasePage:
    @pytest.fixture
    def coordinator(self):
        return UserFactory(roles=[Role.COORDINATOR])

    def _move(self, client, referral, to_status, **fields):
        return client.post(
            reverse("referrals:change_status", args=[referral.reference]),
            {"to_status": to_status, "expected_status": referral.status, **fields},
        )

    def test_request_information_answer_and_accept(self, referrer, coordinator):
        draft = complete_draft(referrer)
        referral, _ = referral_submit(draft=draft, user=referrer)
        staff = verified_client_for(coordinator)
        self._move(staff, referral, Status.SCREENING)
        referral.refresh_from_db()
        self._move(
            staff, referral, Status.INFORMATION_REQUESTED, reason="Is there a dog?"
        )
        referral.refresh_from_db()
        assert referral.status == Status.INFORMATION_REQUESTED

        own = verified_client_for(referrer)
        page = own.get(referral.get_absolute_url()).content.decode()
        assert "Is there a dog?" in page
        assert "Send your answer" in page
        empty = own.post(reverse("referrals:answer", args=[referral.reference]), {})
        assert empty.status_code == 400
        page = empty.content.decode()
        assert "Enter the information the coordinator asked for" in page
        own.post(
            reverse("referrals:answer", args=[referral.reference]),
            {"message": "Yes, a large one."},
        )
        referral.refresh_from_db()
        assert referral.status == Status.SCREENING

        self._move(staff, referral, Status.ACCEPTED)
        referral.refresh_from_db()
        assert referral.status == Status.ACCEPTED
        history = staff.get(referral.get_absolute_url()).content.decode()
        assert "Yes, a large one." in history

    def test_a_refused_move_says_why_and_keeps_what_was_typed(
        self, referrer, coordinator
    ):
        draft = complete_draft(referrer)
        referral, _ = referral_submit(draft=draft, user=referrer)
        staff = verified_client_for(coordinator)
        response = self._move(
            staff, referral, Status.DECLINED, reason="Not ASB at all."
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "cannot be moved to" in page
        assert "Not ASB at all." in page
        referral.refresh_from_db()
        assert referral.status == Status.SUBMITTED

    def test_coordinators_see_an_earlier_referral_of_the_same_person(
        self, referrer, coordinator
    ):
        first, _ = referral_submit(draft=complete_draft(referrer), user=referrer)
        second, _ = referral_submit(draft=complete_draft(referrer), user=referrer)
        page = verified_client_for(coordinator).get(second.get_absolute_url())
        assert "Possible repeat referral" in page.content.decode()
        assert first.reference in page.content.decode()
        own = verified_client_for(referrer).get(second.get_absolute_url())
        assert "Possible repeat referral" not in own.content.decode()


class TestStartingFromAnEarlierReferral:
    def test_own_organisation_can_prefill(self, client, referrer):
        earlier, _ = referral_submit(draft=complete_draft(referrer), user=referrer)
        response = client.post(reverse("referrals:start"), {"from": earlier.reference})
        draft = ReferralDraft.objects.filter(referral__isnull=True).latest("pk")
        assert response.url == reverse("referrals:task_list", args=[draft.public_id])
        page = client.get(_section_url(draft, "people")).content.decode()
        assert 'value="Alex Example"' in page
        assert draft.state("eligibility") == SectionState.NOT_STARTED

    def test_another_agency_cannot_prefill_from_a_shared_referral(self, referrer):
        earlier, _ = referral_submit(draft=complete_draft(referrer), user=referrer)
        other = UserFactory(roles=[Role.REFERRER])
        share(earlier, other.organisation)
        client = verified_client_for(other)
        assert (
            "Start a new referral from this one"
            not in client.get(earlier.get_absolute_url()).content.decode()
        )
        response = client.post(reverse("referrals:start"), {"from": earlier.reference})
        assert response.url == reverse("referrals:index")
        assert not ReferralDraft.objects.filter(owner=other).exists()


def test_no_personal_data_in_the_page_title_or_urls(client, referrer):
    draft = complete_draft(referrer)
    page = client.get(reverse("referrals:check", args=[draft.public_id]))
    title = re.search(r"<title>(.*?)</title>", page.content.decode(), re.S).group(1)
    assert "Alex" not in title


class TestStaleDrafts:
    def test_untouched_drafts_and_their_files_are_deleted_after_retention(
        self, referrer, settings
    ):
        settings.REFERRAL_DRAFT_RETENTION_DAYS = 30
        old = complete_draft(referrer)
        upload = SimpleUploadedFile("r.pdf", PDF, "application/pdf")
        attachment = attachment_add(draft=old, upload=upload, user=referrer)
        stored = attachment.file.name
        ReferralDraft.objects.filter(pk=old.pk).update(
            updated_at=timezone.now() - timedelta(days=31)
        )
        recent = complete_draft(referrer)
        submitted = complete_draft(referrer)
        referral_submit(draft=submitted, user=referrer)
        ReferralDraft.objects.filter(pk=submitted.pk).update(
            updated_at=timezone.now() - timedelta(days=400)
        )
        out = StringIO()
        with self._on_commit():
            call_command("delete_stale_referral_drafts", stdout=out)
        assert "Deleted 1 referral draft unchanged for 30 days." in out.getvalue()
        assert set(ReferralDraft.objects.values_list("pk", flat=True)) == {
            recent.pk,
            submitted.pk,
        }
        assert not attachment.file.storage.exists(stored)
        assert AuditEvent.objects.filter(action="referral.draft_expired").count() == 1

    @staticmethod
    def _on_commit():
        return TestCase.captureOnCommitCallbacks(execute=True)


class TestStalePages:
    def test_a_late_autosave_never_overwrites_a_real_save(self, client):
        draft = _start(client)
        url = _section_url(draft, "actions")
        client.post(url, {"actions": "Newer answer.", "revision": "0"})
        late = client.post(
            url, {"actions": "Older answer.", "revision": "0", "action": "autosave"}
        )
        assert late.status_code == 409
        draft.refresh_from_db()
        assert draft.answers["actions"]["actions"] == ["Newer answer."]

    def test_autosave_hands_back_the_revision_for_the_next_save(self, client):
        draft = _start(client)
        url = _section_url(draft, "actions")
        first = client.post(
            url, {"actions": "A", "revision": "0", "action": "autosave"}
        )
        assert first.json()["revision"] == 1
        second = client.post(
            url, {"actions": "AB", "revision": "1", "action": "autosave"}
        )
        assert second.status_code == 200

    def test_saving_a_page_changed_in_another_window_keeps_what_was_typed(self, client):
        draft = _start(client)
        url = _section_url(draft, "actions")
        client.post(url, {"actions": "From window one.", "revision": "0"})
        response = client.post(url, {"actions": "From window two.", "revision": "0"})
        page = response.content.decode()
        assert "saved in another window" in page
        assert "From window two." in page
        assert 'name="revision" value="1"' in page
        draft.refresh_from_db()
        assert draft.answers["actions"]["actions"] == ["From window one."]
        # Saving again, deliberately, keeps it.
        client.post(url, {"actions": "From window two.", "revision": "1"})
        draft.refresh_from_db()
        assert draft.answers["actions"]["actions"] == ["From window two."]


class TestTheListIsPaged:
    def test_newest_first_a_page_at_a_time(self, monkeypatch):
        from referrals import views
        from tests.factories.referrals import submitted_referral

        monkeypatch.setattr(views, "REFERRALS_PER_PAGE", 2)
        referrer = UserFactory(roles=[Role.REFERRER])
        made = [submitted_referral(referrer) for _ in range(3)]
        client = verified_client_for(UserFactory(roles=[Role.COORDINATOR]))
        first = client.get(reverse("referrals:index")).content.decode()
        second = client.get(reverse("referrals:index"), {"page": 2}).content
        second = second.decode()
        newest, middle, oldest = (r.reference for r in reversed(made))
        assert newest in first and middle in first and oldest not in first
        assert oldest in second and newest not in second
        assert "page 1 of 2" in first
        assert 'rel="next"' in first and 'rel="prev"' in second


class TestAttachmentDownload:
    def _download(self, client, referrer, name, content_type, content=PDF):
        referral = submitted_referral(referrer)
        attachment = ReferralAttachment.objects.create(
            referral=referral,
            file=ContentFile(content, name="upload"),
            original_name=name,
            content_type=content_type,
            size=len(content),
            sha256="0" * 64,
            uploaded_by=referrer,
        )
        url = reverse("referrals:attachment", args=[referral.reference, attachment.pk])
        return client.get(url)

    def test_served_as_a_download_of_its_checked_type_and_never_sniffed(
        self, client, referrer
    ):
        response = self._download(
            client, referrer, "risk assessment.pdf", "application/pdf"
        )
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Length"] == str(len(PDF))
        assert response["Content-Disposition"] == (
            'attachment; filename="risk assessment.pdf"'
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'"
        assert "no-store" in response["Cache-Control"]

    @pytest.mark.parametrize(
        ("name", "served_as"),
        [
            # What the outside test stored before attachments were checked.
            ("update.hta", 'attachment; filename="update.pdf"'),
            ("x.html", 'attachment; filename="x.pdf"'),
            ("fdp.exe", 'attachment; filename="fdp.pdf"'),
            ("..\\..\\evil.hta", 'attachment; filename="evil.pdf"'),
        ],
    )
    def test_the_name_always_ends_in_the_served_type(
        self, client, referrer, name, served_as
    ):
        response = self._download(client, referrer, name, "application/pdf")
        assert response["Content-Disposition"] == served_as
        assert response["Content-Type"] == "application/pdf"

    def test_a_name_outside_ascii_arrives_intact(self, client, referrer):
        response = self._download(
            client, referrer, "Évaluation – Flat 3.hta", "application/pdf"
        )
        assert response["Content-Disposition"] == (
            "attachment; filename*=utf-8''%C3%89valuation%20%E2%80%93%20Flat%203.pdf"
        )


class TestRefusedAttachment:
    """A refused file never gives a 500: the page comes back with the reason
    by the file input and in the error summary, and what was typed is kept."""

    def _post(self, client, draft, upload, action="save"):
        raw = complete_answers()["risk"]
        raw["impact"] = ["She is afraid to open the door."]
        data = {**_flat(raw), "action": action}
        if upload is not None:
            data["risk_assessment"] = upload
            data["risk_assessment_visibility"] = "restricted"  # as the page sends
        return client.post(_section_url(draft, "risk"), data)

    def _assert_refused(self, response, draft, message):
        assert response.status_code == 400
        page = html.unescape(response.content.decode())
        assert "There is a problem" in page
        assert f'<a href="#id_risk_assessment">{message}</a>' in page
        assert (
            '<p id="id_risk_assessment-error-1" class="govuk-error-message">'
            f'<span class="govuk-visually-hidden">Error:</span> {message}</p>'
        ) in page
        # Everything typed is still on the page, and saved.
        assert "She is afraid to open the door." in page
        assert 'value="CAD 1234"' in page
        draft.refresh_from_db()
        assert draft.answers["risk"]["impact"] == ["She is afraid to open the door."]
        assert not ReferralAttachment.objects.exists()

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("update.hta", b"<html><script>alert(1)</script></html>",
             "The selected file must be a PDF, Word (DOCX), Excel (XLSX), "
             "OpenDocument text (ODT), PNG, JPEG, TXT or CSV"),
            ("risk.pdf", b"", "The selected file is empty"),
            ("risk.pdf", b"MZ\x90\x00" + bytes(64), "The selected file is not really "
             "a PDF file. Check the file, or save it again in the right format"),
        ],
        ids=["wrong type", "empty", "not what it says"],
    )  # fmt: skip
    @pytest.mark.parametrize("action", ["save", "later"])
    def test_a_file_the_checks_refuse(self, client, name, content, message, action):
        draft = _start(client)
        upload = SimpleUploadedFile(name, content)
        response = self._post(client, draft, upload, action)
        self._assert_refused(response, draft, message)

    def test_a_file_over_the_limit(self, client, settings):
        settings.DOCUMENTS_MAX_UPLOAD_BYTES = 1024
        draft = _start(client)
        upload = SimpleUploadedFile("risk.pdf", PDF + b"\n" * 1024)
        response = self._post(client, draft, upload)
        self._assert_refused(
            response, draft, "The selected file must be smaller than 1.0\xa0KB"
        )

    def test_an_infected_file(self, client, clamav):
        draft = _start(client)
        upload = SimpleUploadedFile("notes.txt", eicar_bytes())
        response = self._post(client, draft, upload)
        self._assert_refused(response, draft, "The selected file contains a virus")

    def test_while_the_scanner_is_down(self, client, settings):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        settings.CLAMAV_ADDRESS = f"127.0.0.1:{port}"  # nothing listens here
        draft = _start(client)
        response = self._post(client, draft, SimpleUploadedFile("risk.pdf", PDF))
        self._assert_refused(
            response,
            draft,
            "The selected file could not be checked for viruses just now. "
            "Try again in a few minutes",
        )

    def test_a_good_file_is_attached_and_the_page_moves_on(self, client):
        draft = _start(client)
        response = self._post(client, draft, SimpleUploadedFile("risk.pdf", PDF))
        assert response.status_code == 302
        assert ReferralAttachment.objects.get().original_name == "risk.pdf"
