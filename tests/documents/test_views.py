"""The shared-files pages: who may open what (every route under /files/ from
the URL resolver), the download headers, sharing through the form, who has
opened a file, expiry and recall as users see them, and the audit trail."""

import re
import uuid
from datetime import timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from agreements.selectors import AccessDecision
from audit.models import AuditEvent
from documents.models import FileDownload, Share, SharedFile
from tests.conftest import verified_client_for
from tests.factories import three_agencies
from tests.factories.documents import PDF, files_storage, shared, upload
from tests.portal.routes import all_routes

pytestmark = pytest.mark.django_db

ROUTES, _ = all_routes()
SHARE_ROUTES = [r for r in ROUTES if r.pattern.startswith("files/<uuid:share_id>")]
POST_ONLY = {"documents:shorten"}
MANAGING = {"documents:shorten", "documents:recall"}


def test_the_matrix_covers_every_route_under_files():
    assert {r.name for r in SHARE_ROUTES} == {
        "documents:share",
        "documents:download",
        "documents:shorten",
        "documents:recall",
    }
    others = {r.name for r in ROUTES if r.pattern.startswith("files/")}
    assert others - {r.name for r in SHARE_ROUTES} == {
        "documents:index",
        "documents:new",
    }


@pytest.fixture
def world():
    people = three_agencies()
    b = people[("B", "Referrer")].organisation
    share = shared(
        people[("A", "Referrer")],
        [b],
        files=[upload("Risk assessment – Flat 3.pdf")],
        note="Please read before Thursday.",
    )
    return {"people": people, "share": share, "file": share.files.get()}


def _url(route, world):
    kwargs = {"share_id": world["share"].public_id}
    if "file_id" in route.pattern:
        kwargs["file_id"] = world["file"].public_id
    return reverse(route.name, kwargs=kwargs)


def _sees_share(key) -> bool:
    org, role = key
    return role == "Coordinator" or (role == "Referrer" and org in "AB")


def _manages(key) -> bool:
    org, role = key
    return role == "Coordinator" or (role == "Referrer" and org == "A")


@pytest.mark.parametrize("route", SHARE_ROUTES, ids=str)
def test_share_routes_answer_only_those_entitled(route, world):
    url = _url(route, world)
    allowed = _manages if route.name in MANAGING else _sees_share
    for key, user in world["people"].items():
        client = verified_client_for(user)
        response = client.post(url) if route.name in POST_ONLY else client.get(url)
        if allowed(key):
            assert response.status_code in (200, 400), (key, response.status_code)
        else:
            # An administrator, in no organisation, is no party to the
            # agreement: the refusal page on every case route.
            refused = 403 if key == ("-", "Administrator") else 404
            assert response.status_code == refused, (key, response.status_code)
    # Nothing anyone did changed the share.
    share = Share.objects.get()
    assert share.recalled_at is None
    assert share.expires_at == world["share"].expires_at


def test_an_organisation_with_an_overdue_agreement_gets_nothing(world):
    client = verified_client_for(world["people"][("B", "Referrer")])
    refused = AccessDecision(False)
    with mock.patch("documents.selectors.case_material_access", return_value=refused):
        response = client.get(world["file"].get_download_url())
    assert response.status_code == 404


class TestDownload:
    def _download(self, world, key=("B", "Referrer"), **headers):
        client = verified_client_for(world["people"][key])
        return client.get(world["file"].get_download_url(), **headers)

    def test_the_file_streams_with_safe_headers(self, world):
        response = self._download(world)
        assert response.status_code == 200
        assert response.streaming
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Length"] == str(len(PDF))
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "default-src 'none'"
        assert "no-store" in response["Cache-Control"]
        assert not response.has_header("ETag")
        assert not response.has_header("Last-Modified")
        disposition = response["Content-Disposition"]
        # RFC 6266: an ASCII fallback is not required when filename* is given,
        # but the name must arrive intact, percent-encoded as UTF-8.
        assert disposition.startswith("attachment; filename*=utf-8''")
        assert "Risk%20assessment%20%E2%80%93%20Flat%203.pdf" in disposition

    def test_a_plain_ascii_name_is_quoted(self, world):
        world["file"].display_name = 'notes "draft".pdf'
        world["file"].save()
        response = self._download(world)
        assert response["Content-Disposition"] == (
            'attachment; filename="notes \\"draft\\".pdf"'
        )

    def test_the_name_ends_in_the_type_it_is_served_as(self, world):
        # A name that disagrees with the checked type (only possible for rows
        # stored before the checks) is served with the type's extension.
        world["file"].display_name = "update.hta"
        world["file"].save()
        response = self._download(world)
        assert response["Content-Disposition"] == 'attachment; filename="update.pdf"'
        assert response["Content-Type"] == "application/pdf"

    def test_conditional_requests_never_get_304(self, world):
        conditional = {
            "HTTP_IF_NONE_MATCH": "*",
            "HTTP_IF_MODIFIED_SINCE": "Wed, 01 Jan 2031 00:00:00 GMT",
        }
        assert (
            self._download(world, ("C", "Referrer"), **conditional).status_code == 404
        )
        assert (
            self._download(world, ("B", "Referrer"), **conditional).status_code == 200
        )

    def test_a_guessed_file_id_gets_404(self, world):
        client = verified_client_for(world["people"][("B", "Referrer")])
        url = reverse(
            "documents:download", args=[world["share"].public_id, uuid.uuid4()]
        )
        assert client.get(url).status_code == 404

    def test_another_shares_file_under_a_share_one_sees_gets_404(self, world):
        # The check is on the file's own share: a file C sent to A, asked for
        # under the address of the share A sent to B, is no one's there.
        people = world["people"]
        other = shared(
            people[("C", "Referrer")],
            [people[("A", "Referrer")].organisation],
            files=[upload("Not for B.pdf")],
        ).files.get()
        mixed = reverse(
            "documents:download", args=[world["share"].public_id, other.public_id]
        )

        def status(who, url):
            return verified_client_for(people[who]).get(url).status_code

        assert status(("B", "Referrer"), mixed) == 404
        assert status(("A", "Referrer"), mixed) == 404
        assert status(("A", "Referrer"), other.get_download_url()) == 200

    def test_each_download_is_audited_with_who_where_and_when(self, world):
        before = timezone.now()
        self._download(world, REMOTE_ADDR="192.0.2.7")
        event = AuditEvent.objects.get(action="document.downloaded")
        viewer = world["people"][("B", "Referrer")]
        assert event.actor == viewer
        assert event.organisation == viewer.organisation
        assert event.ip_address == "192.0.2.7"
        assert event.at >= before
        assert event.object_id == str(world["file"].pk)

    def test_behind_a_trusted_proxy_the_download_records_the_clients_address(
        self, world, settings
    ):
        # The load balancer's own address is REMOTE_ADDR; the person's is the
        # last hop it added to X-Forwarded-For.
        settings.TRUSTED_PROXY_COUNT = 1
        self._download(
            world,
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR="203.0.113.50, 198.51.100.23",
        )
        download = FileDownload.objects.get(file=world["file"])
        event = AuditEvent.objects.get(action="document.downloaded")
        assert download.ip_address == "198.51.100.23"
        assert event.ip_address == "198.51.100.23"

    def test_expired_files_stop_at_once(self, world):
        Share.objects.update(
            created_at=timezone.now() - timedelta(days=31),
            expires_at=timezone.now() - timedelta(seconds=1),
        )
        assert self._download(world).status_code == 404
        client = verified_client_for(world["people"][("B", "Referrer")])
        page = client.get(world["share"].get_absolute_url()).content.decode()
        assert "These files expired on" in page
        assert "Download Risk" not in page


class TestSharingThroughTheForm:
    def _form(self, client):
        page = client.get(reverse("documents:new")).content.decode()
        return re.search(r'name="submission_key" value="([^"]+)"', page).group(1)

    def _post(self, client, key, **data):
        day = timezone.localdate() + timedelta(days=10)
        fields = {
            "submission_key": key,
            "target": "organisations",
            "note": "For the panel.",
            "expires_0": str(day.day),
            "expires_1": str(day.month),
            "expires_2": str(day.year),
            **data,
        }
        return client.post(reverse("documents:new"), fields)

    def test_share_open_and_see_it_opened(
        self, world, django_capture_on_commit_callbacks
    ):
        sender = verified_client_for(world["people"][("A", "Referrer")])
        b = world["people"][("B", "Referrer")].organisation
        key = self._form(sender)
        with django_capture_on_commit_callbacks(execute=True):
            response = self._post(
                sender, key, files=[upload("visit notes.txt", b"Visited.\n")],
                organisations=[b.pk],
            )  # fmt: skip
        share = Share.objects.get(submission_key=key)
        assert response.status_code == 302
        assert response["Location"] == share.get_absolute_url()
        page = sender.get(share.get_absolute_url()).content.decode()
        assert "1 file shared with Agency B" in page
        # A sentence, not a table with a caption and no rows.
        assert "Nobody has opened this file yet." in page
        assert "<table" not in page
        assert "Not opened yet by: Agency B." in page

        recipient = verified_client_for(world["people"][("B", "Referrer")])
        inbox = recipient.get(reverse("documents:index")).content.decode()
        assert "visit notes.txt" in inbox
        assert "2 files shared with your organisation have not been opened" in inbox
        item = share.files.get()
        # Committed at the end of the block, as a server commits the
        # download: the "openings" token is replaced then (docs/caching.md).
        with django_capture_on_commit_callbacks(execute=True):
            download = recipient.get(item.get_download_url())
        assert b"".join(download.streaming_content) == b"Visited.\n"
        inbox = recipient.get(reverse("documents:index")).content.decode()
        # The fixture's file is still new; this one is not.
        assert "1 file shared with your organisation has not been opened" in inbox

        page = sender.get(share.get_absolute_url()).content.decode()
        assert str(world["people"][("B", "Referrer")]) in page
        assert "Every recipient organisation has opened it." in page
        # The recipient sees the file but not who opened it.
        page = recipient.get(share.get_absolute_url()).content.decode()
        assert "Who has opened these files" not in page

    def test_errors_are_shown_by_each_field_and_what_was_typed_is_kept(self, world):
        sender = verified_client_for(world["people"][("A", "Referrer")])
        key = self._form(sender)
        response = self._post(sender, key, target="", note="Keep this note.")
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page
        assert '<a href="#id_files">Select at least one file to share</a>' in page
        assert '<a href="#id_target_0">Select who should receive the files</a>' in page
        assert "Keep this note." in page
        assert f'value="{key}"' in page  # the same submission, not a new one
        assert "Select the files again" in page
        assert not Share.objects.filter(submission_key=key).exists()

    def test_a_refused_file_is_named_next_to_the_field(self, world):
        sender = verified_client_for(world["people"][("A", "Referrer")])
        b = world["people"][("B", "Referrer")].organisation
        response = self._post(
            sender, self._form(sender),
            files=[upload("setup.pdf", b"MZ\x90\x00" + b"\x00" * 64)],
            organisations=[b.pk],
        )  # fmt: skip
        assert response.status_code == 400
        assert "setup.pdf is not really a PDF file" in response.content.decode()

    def test_an_oversized_file_is_refused_before_it_is_stored(self, world, settings):
        settings.DOCUMENTS_MAX_UPLOAD_BYTES = 64 * 1024
        sender = verified_client_for(world["people"][("A", "Referrer")])
        b = world["people"][("B", "Referrer")].organisation
        stored = SharedFile.objects.count()
        with mock.patch.object(
            files_storage(), "save", side_effect=AssertionError("stored")
        ):
            response = self._post(
                sender, self._form(sender),
                files=[upload("huge.pdf", PDF + b"0" * (200 * 1024))],
                organisations=[b.pk],
            )  # fmt: skip
        assert response.status_code == 400
        assert "huge.pdf must be smaller than 64.0\xa0KB" in response.content.decode()
        assert SharedFile.objects.count() == stored

    def test_a_double_click_makes_one_share(self, world):
        sender = verified_client_for(world["people"][("A", "Referrer")])
        b = world["people"][("B", "Referrer")].organisation
        key = self._form(sender)
        for _ in range(2):
            response = self._post(sender, key, files=[upload()], organisations=[b.pk])
            assert response.status_code == 302
        assert Share.objects.filter(submission_key=key).count() == 1

    def test_an_expiry_beyond_90_days_is_refused_by_the_field(self, world):
        sender = verified_client_for(world["people"][("A", "Referrer")])
        b = world["people"][("B", "Referrer")].organisation
        day = timezone.localdate() + timedelta(days=91)
        response = self._post(
            sender, self._form(sender), files=[upload()], organisations=[b.pk],
            expires_0=str(day.day), expires_1=str(day.month), expires_2=str(day.year),
        )  # fmt: skip
        assert response.status_code == 400
        assert "90 days from today" in response.content.decode()

    def test_signatories_cannot_share(self, world):
        client = verified_client_for(world["people"][("A", "Signatory")])
        assert client.get(reverse("documents:new")).status_code == 404


class TestExpiryAndRecallPages:
    def test_the_expiry_can_be_brought_forward_but_not_extended(self, world):
        sender = verified_client_for(world["people"][("A", "Referrer")])
        share = world["share"]
        later = timezone.localdate(share.expires_at) + timedelta(days=5)
        response = sender.post(
            reverse("documents:shorten", args=[share.public_id]),
            {"shorten-expires_0": later.day, "shorten-expires_1": later.month,
             "shorten-expires_2": later.year},
        )  # fmt: skip
        assert response.status_code == 400
        assert "never extended" in response.content.decode()
        sooner = timezone.localdate() + timedelta(days=2)
        response = sender.post(
            reverse("documents:shorten", args=[share.public_id]),
            {"shorten-expires_0": sooner.day, "shorten-expires_1": sooner.month,
             "shorten-expires_2": sooner.year},
        )  # fmt: skip
        assert response.status_code == 302
        share.refresh_from_db()
        assert timezone.localdate(share.expires_at) == sooner

    def test_recall_stops_downloads_at_once(
        self, world, django_capture_on_commit_callbacks
    ):
        sender = verified_client_for(world["people"][("A", "Referrer")])
        recipient = verified_client_for(world["people"][("B", "Referrer")])
        url = reverse("documents:recall", args=[world["share"].public_id])
        response = sender.post(url, {"reason": ""})
        assert response.status_code == 400
        assert "Enter why you are recalling the files" in response.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = sender.post(url, {"reason": "Sent to the wrong agency"})
        assert response.status_code == 302
        assert recipient.get(world["file"].get_download_url()).status_code == 404
        assert not files_storage().exists(world["file"].file.name)
        page = recipient.get(world["share"].get_absolute_url()).content.decode()
        assert "These files were recalled on" in page
        assert "Sent to the wrong agency" in page


class TestAuditedReads:
    def test_the_list_and_each_share_page_are_audited(self, world):
        viewer = world["people"][("B", "Referrer")]
        client = verified_client_for(viewer)
        client.get(reverse("documents:index"))
        client.get(world["share"].get_absolute_url())
        actions = set(
            AuditEvent.objects.filter(actor=viewer).values_list("action", flat=True)
        )
        assert {"document.list_viewed", "read"} <= actions


class TestStartingFromACaseOrMeeting:
    def test_the_referral_page_links_to_a_form_addressed_to_it(self, world):
        from tests.factories.referrals import submitted_referral

        sender = world["people"][("A", "Referrer")]
        referral = submitted_referral(sender)
        client = verified_client_for(sender)
        page = client.get(referral.get_absolute_url()).content.decode()
        link = f"/files/share/?referral={referral.reference}"
        assert link in page
        form = client.get(link).content.decode()
        assert f'value="{referral.reference}"' in form
        assert 'type="radio" value="referral" checked>' in form
        assert 'type="radio" value="organisations" checked>' not in form
