"""Packs assembled from sections rendered once per case version: the same
pages, text, bookmarks and links as the pack rendered whole, a tag tree that
holds together, and a changed case re-renders only its own section."""

import io
import os
from concurrent.futures.process import BrokenProcessPool

import pikepdf
import pytest
from django.db.models import F
from django.template.loader import render_to_string
from pypdf import PdfReader

from meetings.models import Meeting, MeetingPack, PackSection
from meetings.services import pack_build, pack_context, packs, packs_build
from portal import pdf
from portal.pdf import html_to_pdf
from referrals.models import Referral, RiskLevel
from tests.factories import OrganisationFactory, UserFactory
from tests.factories.meetings import accepted, coordinator, meeting, on_agenda
from tests.factories.referrals import person, submitted_referral

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def agenda():
    boss = coordinator()
    police, housing = OrganisationFactory(name="Police"), OrganisationFactory()
    upcoming = meeting(boss)
    cases = []
    for name in ("Vera Victim", "Other Case", "Third Person"):
        referral = accepted(
            submitted_referral(
                UserFactory(organisation=housing), people=[person(0, name=name)]
            ),
            boss,
        )
        on_agenda(upcoming, referral, [police], boss)
        cases.append(referral)
    return {"meeting": upcoming, "police": police, "housing": housing,
            "cases": cases}  # fmt: skip


def _lines(reader: PdfReader) -> list[list[str]]:
    # Sorted per page: the page number is drawn last in an assembled pack.
    return [
        sorted(line for line in page.extract_text().splitlines() if line.strip())
        for page in reader.pages
    ]


def _outline(reader: PdfReader, items=None, depth=0) -> list[tuple]:
    found = []
    for item in reader.outline if items is None else items:
        if isinstance(item, list):
            found.extend(_outline(reader, item, depth + 1))
        else:
            found.append((depth, item.title, reader.get_destination_page_number(item)))
    return found


def _stored(pack: MeetingPack) -> bytes:
    return pack.file.open("rb").read()


def _count_renders(monkeypatch) -> list[str]:
    """Which parts the next builds render ("front" or "case"), in this
    process: one section is rendered here, not in a child process."""
    renders = []

    def counted(render):
        def wrapped(html, *args):
            renders.append("front" if 'class="cover"' in html else "case")
            return render(html, *args)

        return wrapped

    monkeypatch.setattr("portal.pdf.html_to_pdf", counted(pdf.html_to_pdf))
    for name in ("html_to_pdf", "html_to_pdf_if_pages"):
        monkeypatch.setattr(
            f"meetings.services.packs.{name}", counted(getattr(packs, name))
        )
    return renders


class TestSameAsWhole:
    def test_pages_text_bookmarks_and_contents_match_the_whole_pack(self, agenda):
        pack = pack_build(agenda["meeting"], agenda["police"])
        whole = PdfReader(
            io.BytesIO(
                html_to_pdf(
                    render_to_string(
                        "meetings/pdf/pack.html",
                        pack_context(agenda["meeting"], agenda["police"]),
                    )
                )
            )
        )
        built = PdfReader(io.BytesIO(_stored(pack)))
        assert len(built.pages) == len(whole.pages) == pack.pages
        assert _lines(built) == _lines(whole)
        assert _outline(built) == _outline(whole)
        assert built.metadata.title == whole.metadata.title
        # The contents' link to each case opens the page it starts on.
        for referral in agenda["cases"]:
            item = referral.agenda_items.get()
            start = next(
                number
                for number, page in enumerate(built.pages)
                if f"Case {item.position}," in page.extract_text()
            )
            destination = built.named_destinations[f"case-{item.pk}"]
            assert built.get_destination_page_number(destination) == start

    def test_the_tag_tree_holds_together(self, agenda):
        pack = pack_build(agenda["meeting"], agenda["police"])
        with pikepdf.open(io.BytesIO(_stored(pack))) as pdf:
            assert str(pdf.Root.Lang) == "en-GB"
            assert pdf.Root.MarkInfo.Marked
            tree = pdf.Root.StructTreeRoot
            (document,) = tree.K
            assert pikepdf.Name.Document == document.S
            pages = {page.objgen for page in pdf.pages}
            nums = tree.ParentTree.Nums
            keys = [int(nums[i]) for i in range(0, len(nums), 2)]
            assert keys == list(range(len(keys)))
            assert int(tree.ParentTreeNextKey) == len(keys)
            # Each page's key maps its marked content to elements of this tree.
            for page in pdf.pages:
                mapped = nums[2 * int(page.obj.StructParents) + 1]
                for element in mapped:
                    assert element.Pg.objgen == page.objgen
            # Every element below the Document points back to its parent and
            # to a page of this file.
            seen, todo = 0, [document]
            while todo:
                parent = todo.pop()
                for kid in parent.get("/K", pikepdf.Array()):
                    if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                        assert kid.P.objgen == parent.objgen
                        if "/Pg" in kid:
                            assert kid.Pg.objgen in pages
                        seen += 1
                        todo.append(kid)
            assert seen > 50
            headings = [kid.S for kid in document.K if kid.S in (pikepdf.Name.H1,)] + [
                kid.S for kid in document.K if pikepdf.Name.Sect == kid.S
            ]
            assert len(headings) >= 1 + len(agenda["cases"])


class TestIncremental:
    def test_a_changed_case_renders_only_its_own_section(self, agenda, monkeypatch):
        first = pack_build(agenda["meeting"], agenda["police"])
        keys = set(PackSection.objects.values_list("key", flat=True))
        assert len(keys) == len(agenda["cases"])
        renders = _count_renders(monkeypatch)
        changed = agenda["cases"][1]
        risk = (
            RiskLevel.MEDIUM if changed.risk_level == RiskLevel.HIGH else RiskLevel.HIGH
        )
        Referral.objects.filter(pk=changed.pk).update(risk_level=risk)
        rebuilt = pack_build(agenda["meeting"], agenda["police"])
        assert renders.count("case") == 1
        assert 1 <= renders.count("front") <= 2
        now = set(rebuilt.sections.values_list("key", flat=True))
        assert len(now - keys) == 1 and len(keys - now) == 1
        text = "\n".join(
            page.extract_text()
            for page in PdfReader(io.BytesIO(_stored(rebuilt))).pages
        )
        assert f"{changed.reference}" in text
        assert f"Risk level: {risk.label}" in text
        assert rebuilt.file.name != first.file.name

    def test_another_agency_with_the_same_view_reuses_the_sections(
        self, agenda, monkeypatch
    ):
        pack_build(agenda["meeting"], agenda["police"])
        renders = _count_renders(monkeypatch)
        # The referring agency sees the same cases; its front names it.
        housing = pack_build(agenda["meeting"], agenda["housing"])
        assert housing.sections.count() == len(agenda["cases"])
        assert renders.count("case") == 0
        assert 1 <= renders.count("front") <= 2


def _explode(html: str) -> bytes:
    if 'class="cover"' not in html:
        raise RuntimeError("WeasyPrint failed")
    return html_to_pdf(html)


class TestSideBySide:
    """Sections rendered in child processes (portal.pdf.html_to_pdfs)."""

    def test_the_sections_are_the_same_as_rendered_one_by_one(self, agenda):
        together = pack_build(agenda["meeting"], agenda["police"], processes=2)
        sections = {s.key: bytes(s.pdf) for s in together.sections.all()}
        assert len(sections) == len(agenda["cases"])
        together_lines = _lines(PdfReader(io.BytesIO(_stored(together))))
        together.delete()
        PackSection.objects.all().delete()
        alone = pack_build(agenda["meeting"], agenda["police"], processes=1)
        assert {s.key: bytes(s.pdf) for s in alone.sections.all()} == sections
        assert _lines(PdfReader(io.BytesIO(_stored(alone)))) == together_lines

    def test_a_failed_render_fails_the_build_and_keeps_the_last_pack(
        self, agenda, monkeypatch
    ):
        before = pack_build(agenda["meeting"], agenda["police"])
        stored = set(PackSection.objects.values_list("key", flat=True))
        # Every case changes, so all three sections are rendered again, side
        # by side; a child process renders with the failing function (it is
        # looked up by name there).
        Referral.objects.filter(pk__in=[r.pk for r in agenda["cases"]]).update(
            risk_level=RiskLevel.MEDIUM
        )
        Referral.objects.filter(pk=agenda["cases"][0].pk).update(
            risk_level=RiskLevel.HIGH
        )
        monkeypatch.setattr("portal.pdf.html_to_pdf", _explode)
        meeting = agenda["meeting"]
        # A change is counted (as the services do), then its build runs.
        Meeting.objects.filter(pk=meeting.pk).update(
            packs_version=F("packs_version") + 1
        )
        with pytest.raises(RuntimeError, match="WeasyPrint failed"):
            packs_build(meeting)
        after = MeetingPack.objects.get(pk=before.pk)
        assert after.file.name == before.file.name
        assert after.source_hash == before.source_hash
        assert set(PackSection.objects.values_list("key", flat=True)) == stored
        meeting.refresh_from_db()
        assert meeting.packs_failed
        assert meeting.packs_built_version < meeting.packs_failed_version

    def test_a_child_that_dies_fails_the_build(self, agenda, monkeypatch):
        monkeypatch.setattr("portal.pdf.html_to_pdf", _die)
        with pytest.raises(BrokenProcessPool):
            pack_build(agenda["meeting"], agenda["police"], processes=2)
        assert not MeetingPack.objects.exists()
        assert not PackSection.objects.exists()


def _die(html: str) -> bytes:
    os._exit(1)
