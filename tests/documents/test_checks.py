"""What may be shared: the type by content and name together, the size limit,
zip bombs, and filenames made safe."""

import io
import zipfile

import pytest

from documents.checks import FileRefused, check_file, display_name
from tests.factories.documents import JPEG, PDF, PNG, office, upload

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
