"""Downloading a meeting pack: the stored pack, unchanged, then a small
incremental update that stamps who downloaded it on every page."""

import functools
import io

import pikepdf
import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from accounts.models import Organisation, Role, User
from audit.models import AuditEvent, Outcome
from meetings import watermark
from meetings.audit_actions import MeetingAction
from meetings.models import Meeting, MeetingKind, MeetingPack
from meetings.services import (
    action_add,
    meeting_update,
    pack_build,
    pack_download,
    papers_issue,
)
from meetings.services import packs as pack_services
from meetings.watermark import STAMP_FORMAT, watermark_prepare, watermark_update
from portal.pdf import html_to_pdf
from referrals.models import Referral
from tests.conftest import verified_client_for
from tests.documents import s3
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import (
    accepted,
    confirmed,
    coordinator,
    meeting,
    on_agenda,
)
from tests.factories.referrals import person, submitted_referral
from tests.shared_setup import rolled_back_after_module

# The moto fixtures, bound here so pytest finds them.
s3_server = s3.s3_server
s3_storage = s3.s3_storage

# Every test here builds packs with WeasyPrint, or reads fonts cached from one.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def _bytes(download) -> bytes:
    return b"".join(download.chunks)


def _stored(pack: MeetingPack) -> bytes:
    with pack.file.open("rb") as handle:
        return handle.read()


def _page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def _referrer(organisation, **names):
    return UserFactory(organisation=organisation, roles=[Role.REFERRER], **names)


def _issued(capture, *, cases: int = 1, days_ahead: int = 14, names=""):
    """A meeting whose papers are issued, with ``cases`` Housing cases that
    Police is invited to."""
    boss = coordinator()
    police = OrganisationFactory(name=f"Police{names}")
    housing = OrganisationFactory(name=f"Housing{names}")
    upcoming = meeting(boss, days_ahead=days_ahead)
    referrals = []
    for index in range(cases):
        referral = accepted(
            submitted_referral(
                _referrer(housing), people=[person(0, name=f"Vera Victim{index}")]
            ),
            boss,
        )
        on_agenda(upcoming, referral, [police], boss)
        referrals.append(referral)
    with capture(execute=True):
        papers_issue(meeting=upcoming, user=boss)
    return {"boss": boss, "meeting": upcoming, "police": police,
            "housing": housing, "referrals": referrals}  # fmt: skip


@pytest.fixture(scope="module")
def _issued_once(django_db_setup, django_db_blocker):
    """One issued meeting, its packs built once for the module; the packs'
    stored files are kept aside to be put back (below)."""
    with rolled_back_after_module(django_db_blocker):
        world = _issued(TestCase.captureOnCommitCallbacks)
        packs = MeetingPack.objects.filter(meeting=world["meeting"])
        files = {pack.file.name: _stored(pack) for pack in packs}
        yield world, files


@pytest.fixture
def issued(_issued_once):
    """The module's issued meeting, read afresh, with its packs' files in
    storage: a test may delete one or rebuild it, and its rows are rolled
    back after it, but not the files."""
    world, files = _issued_once
    storage = MeetingPack._meta.get_field("file").storage
    for name, content in files.items():
        if not storage.exists(name):
            assert storage.save(name, ContentFile(content)) == name
    return {
        "boss": User.objects.get(pk=world["boss"].pk),
        "meeting": Meeting.objects.get(pk=world["meeting"].pk),
        "police": Organisation.objects.get(pk=world["police"].pk),
        "housing": Organisation.objects.get(pk=world["housing"].pk),
        "referrals": list(
            Referral.objects.filter(
                pk__in=[referral.pk for referral in world["referrals"]]
            ).order_by("pk")
        ),
    }


@functools.cache
def _one_page_pdf() -> bytes:
    return html_to_pdf(
        "<html lang='en-GB'><head><title>A pack</title></head>"
        "<body><p>One page</p></body></html>"
    )


def _download(issued, user, organisation=None) -> bytes:
    return _bytes(
        pack_download(
            meeting=issued["meeting"],
            organisation=organisation or issued["police"],
            user=confirmed(issued["meeting"], user),
        )
    )


class TestStampedPack:
    def test_the_stored_pack_then_a_valid_update_stamped_on_every_page(self, issued):
        reader = _referrer(issued["police"], first_name="Siobhán",
                           last_name="Ó Ceallaigh")  # fmt: skip
        pack = MeetingPack.objects.get(organisation=issued["police"])
        download = pack_download(
            meeting=issued["meeting"],
            organisation=issued["police"],
            user=confirmed(issued["meeting"], reader),
        )
        pdf = _bytes(download)
        stored = _stored(pack)

        assert len(pdf) == download.size
        assert pdf.startswith(stored)
        assert len(pdf) - len(stored) < 4000  # the stamp, not a rewrite

        with pikepdf.open(io.BytesIO(pdf)) as document:
            assert document.check_pdf_syntax() == []
            assert len(document.pages) == pack.pages
            for key in ("/StructTreeRoot", "/MarkInfo", "/Lang"):
                assert key in document.Root
            assert document.Root.MarkInfo.Marked
            for page in document.pages:
                last = page.Contents[-1].read_bytes()
                assert b"/Artifact BMC" in last
                assert b"/PortalWatermark Do" in last
            stamp = document.get_object(tuple(pack.stamp["object"]))
            assert b" Tj" in stamp.read_bytes()

        texts = _page_texts(pdf)
        assert len(texts) == pack.pages
        for text in texts:
            assert "Downloaded by Siobhán Ó Ceallaigh, Police, " in text
        assert "Vera Victim0" in "\n".join(texts)

    def test_characters_outside_the_embedded_font_fall_back(self, issued):
        reader = _referrer(issued["police"], first_name="Ștefan",
                           last_name="O’Brien Ωmega 王")  # fmt: skip
        text = _page_texts(_download(issued, reader))[0]
        # Ș has its accent stripped; Greek and Chinese become "?"; the
        # typographic apostrophe is in the font.
        assert "Downloaded by Stefan O’Brien ?mega ?, Police" in text

    def test_two_people_get_their_own_watermark_on_the_same_stored_pack(self, issued):
        first = _referrer(issued["police"], first_name="Ann", last_name="One")
        second = _referrer(issued["police"], first_name="Bea", last_name="Two")
        stored = _stored(MeetingPack.objects.get(organisation=issued["police"]))
        one, two = _download(issued, first), _download(issued, second)
        assert one[: len(stored)] == two[: len(stored)] == stored
        assert one != two
        assert "Ann One" in _page_texts(one)[-1]
        assert "Bea Two" not in _page_texts(one)[-1]
        assert "Bea Two" in _page_texts(two)[-1]

    @pytest.mark.parametrize("xref_streams", [True, False])
    def test_both_kinds_of_cross_reference_section_are_updated(self, xref_streams):
        html = (
            "<html lang='en-GB'><head><title>Two pages</title></head><body>"
            "<h1>First</h1><p style='page-break-after: always'>One</p>"
            "<h1>Second</h1><p>Two</p></body></html>"
        )
        prepared = watermark_prepare(html_to_pdf(html), xref_streams=xref_streams)
        assert prepared.stamp["xref_stream"] is xref_streams
        update = watermark_update(
            prepared.stamp, "Stamped for Zoë", source=lambda: io.BytesIO(prepared.pdf)
        )
        assert (b"/Type /XRef" in update) is xref_streams
        assert (b"\nxref\n" in update) is not xref_streams
        pdf = prepared.pdf + update
        with pikepdf.open(io.BytesIO(pdf)) as document:
            assert document.check_pdf_syntax() == []
            assert "/StructTreeRoot" in document.Root
        reader = PdfReader(io.BytesIO(pdf), strict=True)
        assert len(reader.pages) == prepared.pages == 2
        for page in reader.pages:
            assert "Stamped for Zoë" in page.extract_text()

    def test_fonts_are_read_from_the_stored_file_once_per_process(
        self, issued, monkeypatch
    ):
        monkeypatch.setattr(watermark, "_STAMP_FONTS", {})
        reader = _referrer(issued["police"], first_name="Rhian")
        assert "Downloaded by Rhian" in _page_texts(_download(issued, reader))[0]
        assert len(watermark._STAMP_FONTS) == 2  # parsed from the stored pack
        stamp = MeetingPack.objects.get(organisation=issued["police"]).stamp

        def unread():
            raise AssertionError("the stored pack was read again")

        assert watermark_update(stamp, "Again", source=unread)

    def test_cmap_ranges_and_characters_are_read(self):
        cmap = (
            b"2 beginbfchar\n<0003> <0020>\n<0004> <00660069>\nendbfchar\n"
            b"2 beginbfrange\n<0010> <0012> <0041>\n"
            b"<0020> <0021> [<00E1> <0106>]\nendbfrange\n"
        )
        assert watermark._cmap_codes(cmap) == {
            " ": 3, "A": 0x10, "B": 0x11, "C": 0x12, "á": 0x20, "Ć": 0x21,
        }  # fmt: skip


class TestWhenAPackIsBuilt:
    def test_a_download_reads_one_row_whatever_the_number_of_cases(
        self, django_capture_on_commit_callbacks, monkeypatch
    ):
        # The downloads' queries are counted, not the builds': the packs are
        # made from one small render (pack_context still reads every case).
        monkeypatch.setattr(pack_services, "html_to_pdf", lambda html: _one_page_pdf())
        counts = []
        for cases in (2, 10):
            setup = _issued(
                django_capture_on_commit_callbacks, cases=cases, names=str(cases)
            )
            reader = confirmed(setup["meeting"], _referrer(setup["police"]))
            with CaptureQueriesContext(connection) as queries:
                download = pack_download(
                    meeting=setup["meeting"], organisation=setup["police"], user=reader
                )
            download.chunks.close()
            counts.append(len(queries))
        assert counts[0] == counts[1]

    def test_a_download_does_not_build_a_stored_pack(self, issued, monkeypatch):
        def refused(*args, **kwargs):
            raise AssertionError("pack_build was called")

        monkeypatch.setattr(pack_services, "pack_build", refused)
        assert _download(issued, _referrer(issued["police"]))

    def test_a_missing_pack_is_built_on_demand(self):
        boss = coordinator()
        police = OrganisationFactory(name="Police on demand")
        upcoming = meeting(boss)
        on_agenda(upcoming, accepted(submitted_referral(), boss), [police], boss)
        assert not MeetingPack.objects.filter(meeting=upcoming).exists()
        pdf = _bytes(
            pack_download(
                meeting=upcoming,
                organisation=police,
                user=confirmed(upcoming, _referrer(police)),
            )
        )
        pack = MeetingPack.objects.get(organisation=police)
        assert pdf.startswith(_stored(pack))
        assert pack.stamp["format"] == STAMP_FORMAT

    def test_a_pack_whose_file_is_lost_is_rebuilt(self, issued):
        pack = MeetingPack.objects.get(organisation=issued["police"])
        pack.file.storage.delete(pack.file.name)
        pdf = _download(issued, _referrer(issued["police"], first_name="Lost"))
        rebuilt = MeetingPack.objects.get(pk=pack.pk)
        assert rebuilt.file.name != pack.file.name
        assert pdf.startswith(_stored(rebuilt))
        assert "Downloaded by Lost" in _page_texts(pdf)[0]

    def test_a_pack_prepared_before_stamping_is_rebuilt_the_first_time(self, issued):
        pack = MeetingPack.objects.get(organisation=issued["police"])
        MeetingPack.objects.filter(pk=pack.pk).update(stamp={})
        pdf = _download(issued, _referrer(issued["police"], first_name="Early"))
        rebuilt = MeetingPack.objects.get(pk=pack.pk)
        assert rebuilt.stamp["format"] == STAMP_FORMAT
        assert rebuilt.file.name != pack.file.name
        assert "Downloaded by Early" in _page_texts(pdf)[0]
        _download(issued, _referrer(issued["police"]))
        assert MeetingPack.objects.get(pk=pack.pk).file.name == rebuilt.file.name


# The pack download's queries through the view, with the caches warm; lower
# it when a change saves one.
PACK_DOWNLOAD_QUERIES = 11


class TestTheView:
    def test_streams_the_stamped_pack_with_its_length_and_private_headers(self, issued):
        reader = _referrer(issued["police"], first_name="Petra", last_name="Police")
        confirmed(issued["meeting"], reader)
        response = verified_client_for(reader).get(
            reverse("meetings:pack", args=[issued["meeting"].pk])
        )
        assert response.status_code == 200
        assert isinstance(response, StreamingHttpResponse)
        body = b"".join(response.streaming_content)
        assert int(response["Content-Length"]) == len(body)
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment; filename=")
        assert "no-store" in response["Cache-Control"]
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "Downloaded by Petra Police" in _page_texts(body)[0]

    def test_a_download_makes_few_queries(self, issued):
        """Issue 23: the view's queries once the shared caches are warm: the
        person, the meeting they may see, their organisation's place on its
        agenda, the pack with whether they confirmed the confidentiality
        statement (one query; two before), and the audit event."""
        reader = confirmed(issued["meeting"], _referrer(issued["police"]))
        client = verified_client_for(reader)
        url = reverse("meetings:pack", args=[issued["meeting"].pk])
        b"".join(client.get(url).streaming_content)  # warm: sessions, caches
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            body = b"".join(response.streaming_content)
        assert response.status_code == 200
        assert int(response["Content-Length"]) == len(body)
        # On PostgreSQL the audit write takes the chain's lock in a query of
        # its own (pg_try_advisory_xact_lock); SQLite's lock is the
        # transaction's.
        lock = int(connection.vendor == "postgresql")
        assert len(queries) <= PACK_DOWNLOAD_QUERIES + lock, "\n".join(
            query["sql"] for query in queries.captured_queries
        )

    def test_an_unconfirmed_reader_is_refused_whether_or_not_a_pack_is_stored(
        self, issued
    ):
        reader = _referrer(issued["police"], first_name="Unconfirmed")
        client = verified_client_for(reader)
        url = reverse("meetings:pack", args=[issued["meeting"].pk])
        assert client.get(url).status_code == 403
        MeetingPack.objects.filter(meeting=issued["meeting"]).delete()
        assert client.get(url).status_code == 403
        assert not MeetingPack.objects.filter(meeting=issued["meeting"]).exists()
        refusals = AuditEvent.objects.filter(
            actor=reader, action=MeetingAction.PACK_DOWNLOAD_REFUSED
        )
        assert [event.outcome for event in refusals] == [Outcome.DENIED] * 2


class TestOnS3:
    def test_a_pack_built_and_stamped_on_s3(
        self, s3_storage, monkeypatch, django_capture_on_commit_callbacks
    ):
        monkeypatch.setattr(MeetingPack._meta.get_field("file"), "storage", s3_storage)
        monkeypatch.setattr(watermark, "_STAMP_FONTS", {})
        setup = _issued(django_capture_on_commit_callbacks, names=" on S3")
        pack = MeetingPack.objects.get(organisation=setup["police"])
        assert s3_storage.exists(pack.file.name)
        pdf = _download(setup, _referrer(setup["police"], first_name="Bucket"))
        assert pdf.startswith(_stored(pack))
        assert "Downloaded by Bucket" in _page_texts(pdf)[-1]


class TestPacksFollowChanges:
    """Downloads trust the stored pack, so each change to what a pack shows
    must rebuild it (tasks run at once in tests)."""

    def _shows(self, issued, text: str) -> bool:
        return text in "\n".join(
            _page_texts(_download(issued, _referrer(issued["police"])))
        )

    def test_the_meeting_moving(self, issued, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            meeting_update(
                meeting=issued["meeting"],
                user=issued["boss"],
                location="Council chamber, Civic Centre",
            )
        assert self._shows(issued, "Council chamber, Civic Centre")

    def test_the_organisation_or_chair_renamed(
        self, issued, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            issued["police"].name = "County Constabulary"
            issued["police"].save()
            issued["boss"].first_name, issued["boss"].last_name = "Chidi", "Chair"
            issued["boss"].save()
        assert self._shows(issued, "For: County Constabulary")
        assert self._shows(issued, "Chair: Chidi Chair")

    def test_an_urgent_meeting_reported_to_it(
        self, issued, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            urgent = meeting(
                issued["boss"],
                days_ahead=3,
                kind=MeetingKind.URGENT,
                reported_to=issued["meeting"],
            )
        assert self._shows(issued, str(urgent))

    def test_an_action_agreed_at_an_earlier_meeting(
        self, issued, django_capture_on_commit_callbacks
    ):
        referral = issued["referrals"][0]
        earlier = meeting(issued["boss"], days_ahead=7)
        item = on_agenda(earlier, referral, [issued["police"]], issued["boss"])
        with django_capture_on_commit_callbacks(execute=True):
            papers_issue(meeting=earlier, user=issued["boss"])
        assert not self._shows(issued, "Fit a door alarm")
        with django_capture_on_commit_callbacks(execute=True):
            action_add(
                item=item,
                owner=issued["police"],
                officer="PC Smith",
                description="Fit a door alarm",
                due=earlier.day,
                user=issued["boss"],
            )
        assert self._shows(issued, "Fit a door alarm")

    def test_nothing_changed_keeps_the_file(self, issued):
        pack = MeetingPack.objects.get(organisation=issued["police"])
        assert pack_build(issued["meeting"], issued["police"]).file.name == (
            pack.file.name
        )
