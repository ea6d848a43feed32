"""Files to share, built in memory: real minimal PDFs, Office files and the like."""

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

from documents.services import share_create

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
    b"\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00"
    b"\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + (
    b"\x00" * 64
)


def office(kind: str = "docx", extra: dict | None = None) -> bytes:
    """A minimal DOCX, XLSX or ODT: a zip with the members that make it one."""
    members = {
        "docx": {
            "[Content_Types].xml": "<Types/>",
            "word/document.xml": "<w:document/>",
        },
        "xlsx": {"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"},
        "odt": {
            "mimetype": "application/vnd.oasis.opendocument.text",
            "content.xml": "<office:document-content/>",
        },
    }[kind]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in {**members, **(extra or {})}.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def upload(name: str = "notes.pdf", content: bytes = PDF, content_type=None):
    return SimpleUploadedFile(name, content, content_type or "application/octet-stream")


def shared(user, organisations, *, files=None, **options):
    """A share made through the service, as a person would."""
    share, _ = share_create(
        user=user,
        uploads=files or [upload()],
        organisations=list(organisations),
        **options,
    )
    return share
