"""Files to share, built in memory: real minimal PDFs, Office files and the like."""

import io
import zipfile

import pikepdf
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.services import share_create


def pdf(build=None, *, object_streams: bool = False) -> bytes:
    """A real one-page PDF; ``build(pdf)`` may add to it before it is saved.

    With ``object_streams`` its objects are saved compressed inside object
    streams, so nothing in them can be found by searching the file's bytes.
    """
    document = pikepdf.new()
    document.add_blank_page(page_size=(200, 200))
    if build is not None:
        build(document)
    buffer = io.BytesIO()
    document.save(
        buffer,
        deterministic_id=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate
        if object_streams
        else pikepdf.ObjectStreamMode.disable,
    )
    return buffer.getvalue()


PDF = pdf()
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


def files_storage():
    """The storage shared files are written to: the one their model field holds.

    A test that changes the STORAGES setting makes Django build new storage
    objects afterwards, while the model field keeps the one it was built with;
    a mock must go on the field's, or it misses the writes it is meant to see.
    """
    from documents.models import SharedFile

    return SharedFile._meta.get_field("file").storage
