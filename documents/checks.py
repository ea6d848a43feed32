"""What a shared or published file must be: one of a few types, by content and
by name together, within the size limit, and not a zip bomb.

The content type comes from libmagic (python-magic) on the file's first bytes;
Office and OpenDocument files are zip archives, so for those we also look at
the archive's members, without unpacking them.
"""

import unicodedata
import zipfile
from dataclasses import dataclass

import magic
from django.conf import settings
from django.template.defaultfilters import filesizeformat

# Extension -> (content types libmagic may report, the type we serve it as).
_ZIP = {"application/zip"}
ACCEPTED = {
    "pdf": ({"application/pdf"}, "application/pdf"),
    "docx": (
        {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
        | _ZIP,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (
        {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} | _ZIP,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "odt": (
        {"application/vnd.oasis.opendocument.text"} | _ZIP,
        "application/vnd.oasis.opendocument.text",
    ),
    "png": ({"image/png"}, "image/png"),
    "jpg": ({"image/jpeg"}, "image/jpeg"),
    "jpeg": ({"image/jpeg"}, "image/jpeg"),
    # libmagic calls plain text with commas on every line CSV.
    "txt": ({"text/plain", "text/csv"}, "text/plain"),
    "csv": ({"text/csv", "text/plain"}, "text/csv"),
}
ACCEPTED_LABEL = (
    "PDF, Word (DOCX), Excel (XLSX), OpenDocument text (ODT), PNG, JPEG, TXT or CSV"
)
# The member each kind of archive must have, so a renamed zip is not a DOCX.
_ARCHIVE_MARKERS = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "odt": "content.xml",
}
# Generous for real documents, far short of what a zip bomb unpacks to.
MAX_ARCHIVE_MEMBERS = 2000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
_SNIFF_BYTES = 8192


class FileRefused(Exception):
    """The file cannot be accepted; the message says why, in plain words."""


@dataclass(frozen=True)
class CheckedFile:
    display_name: str
    content_type: str


def max_upload_bytes() -> int:
    return settings.DOCUMENTS_MAX_UPLOAD_BYTES


def too_large_message(name: str) -> str:
    return f"{name} must be smaller than {filesizeformat(max_upload_bytes())}"


def display_name(raw: str) -> str:
    """The sender's filename made safe to show: no folders, no control
    characters, normalised Unicode, at most 150 characters (extension kept)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if len(name) > 150:
        stem, dot, extension = name.rpartition(".")
        name = f"{stem[: 149 - len(extension)]}.{extension}" if dot else name[:150]
    return name or "file"


def extension_of(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    return extension.lower() if dot and stem else ""


def check_file(upload) -> CheckedFile:
    """The upload's display name and type, or FileRefused saying what is wrong."""
    name = display_name(upload.name)
    if upload.size == 0:
        raise FileRefused(f"{name} is empty")
    if upload.size > max_upload_bytes():
        raise FileRefused(too_large_message(name))
    extension = extension_of(name)
    if extension not in ACCEPTED:
        raise FileRefused(f"{name} must be a {ACCEPTED_LABEL}")
    upload.seek(0)
    head = upload.read(_SNIFF_BYTES)
    upload.seek(0)
    detected = magic.from_buffer(head, mime=True)
    allowed, served_as = ACCEPTED[extension]
    if detected not in allowed:
        raise FileRefused(
            f"{name} is not really a {extension.upper()} file. "
            "Check the file, or save it again in the right format"
        )
    if extension in _ARCHIVE_MARKERS:
        _check_archive(upload, name, _ARCHIVE_MARKERS[extension])
    elif served_as.startswith("text/"):
        _check_text(upload, name)
    return CheckedFile(display_name=name, content_type=served_as)


def _check_archive(upload, name: str, marker: str) -> None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise FileRefused(f"{name} has too many parts to be a document")
            unpacked = sum(member.file_size for member in members)
            packed = max(sum(member.compress_size for member in members), 1)
            if unpacked > MAX_UNPACKED_BYTES or (
                unpacked > 10 * 1024 * 1024
                and unpacked / packed > MAX_COMPRESSION_RATIO
            ):
                raise FileRefused(
                    f"{name} unpacks to far more than its size, so it cannot be "
                    "accepted. Save it again, or send it as a PDF"
                )
            if marker not in {member.filename for member in members}:
                raise FileRefused(f"{name} is not a real {extension_of(name).upper()}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise FileRefused(f"{name} is damaged and cannot be opened") from exc
    finally:
        upload.seek(0)


def _check_text(upload, name: str) -> None:
    """Text must be text: UTF-8 (or Windows' usual Latin encoding), no NULs."""
    upload.seek(0)
    try:
        for chunk in upload.chunks():
            if b"\x00" in chunk:
                raise FileRefused(f"{name} is not a plain text file")
    finally:
        upload.seek(0)
