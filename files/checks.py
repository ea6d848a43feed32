"""What an uploaded file must be, wherever it is uploaded (shared files,
referral attachments, published documents): one of a few types, by content and
by name together, within the size limit, not a zip bomb, and nothing in it that
runs when it is opened (macros, PDF scripts, launch actions, attached files).

The content type comes from libmagic (python-magic) on the file's first bytes.
Office and OpenDocument files are zip archives, so for those we also read the
archive's members; PDFs are parsed with pikepdf (qpdf), which reads compressed
object streams and decodes escaped names such as ``/J#61vaScript``.
"""

import re
import unicodedata
import zipfile
from dataclasses import dataclass

import magic
import pikepdf
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
# The extension a checked type is served with (jpg for JPEG, txt for text).
_EXTENSIONS = {
    served_as: extension for extension, (_, served_as) in reversed(ACCEPTED.items())
}
# Generous for real documents, far short of what a zip bomb unpacks to.
MAX_ARCHIVE_MEMBERS = 2000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
_SNIFF_BYTES = 8192
_CHUNK_BYTES = 64 * 1024

# Office formats that carry macros; refused by name before anything is read.
_MACRO_EXTENSIONS = {
    *("docm", "dotm", "xlsm", "xltm", "xlam", "xlsb", "pptm", "potm", "ppam"),
    *("ppsm", "sldm"),
}
# Where Office keeps macros and ActiveX controls, and OpenDocument its Basic
# and script libraries: a renamed .docm is still refused.
_MACRO_MEMBER = re.compile(
    r"(^|/)(vbaproject\.bin|vbadata\.xml)$|(^|/)activex/|^(basic|scripts)/",
    re.IGNORECASE,
)
# Relationships that fetch a template or object from elsewhere when the file
# is opened (remote template injection; CVE-2022-30190): hyperlinks are fine.
_REMOTE_CODE_RELATIONSHIP = re.compile(
    rb"<Relationship\b(?=[^>]*TargetMode=\"External\")"
    rb"(?=[^>]*Type=\"[^\"]*/(?:attachedTemplate|oleObject|frame|subDocument)\")",
    re.IGNORECASE,
)
_MAX_RELS_BYTES = 1024 * 1024

# Web page markup has no place in a PDF; a PDF that carries it is a polyglot
# that a browser or mail client could render as a page.
_MARKUP = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|iframe|svg|object|embed)[\s>/]",
    re.IGNORECASE,
)
_MARKUP_OVERLAP = 32
# PDF features that do something when the file is opened rather than show it
# (ISO 32000-1, 12.6 actions, 7.11.4 embedded files, 12.7.8 XFA): a /JS or
# /JavaScript key anywhere (scripts, the document's script name tree), actions
# of these kinds wherever they sit (/OpenAction, /AA, /A, /Next), attached files.
_PDF_SCRIPT_KEYS = {"/JS", "/JavaScript"}
_PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/GoToE", "/RichMediaExecute"}
_PDF_EMBEDDED_KEYS = {"/EmbeddedFile", "/EmbeddedFiles", "/EF"}
# Far more objects, dictionaries and arrays than a real document has; also
# bounds the time a check takes.
MAX_PDF_OBJECTS = 500_000
# Largest stream qpdf will inflate (object streams are inflated to be parsed):
# a 2 MB PDF whose object stream inflated to 2 GB took 28 s and 2 GB of memory.
PDF_MAX_INFLATED_BYTES = 100 * 1024 * 1024


class FileRefused(Exception):
    """The file cannot be accepted; the message says why, in plain words."""


@dataclass(frozen=True)
class CheckedFile:
    display_name: str
    content_type: str


def limit_pdf_inflation() -> None:
    """Cap how far qpdf inflates one stream; process-wide, so set once at
    start-up (documents.apps). https://pikepdf.readthedocs.io/en/latest/api/settings.html"""
    pikepdf.settings.set_qpdf_limits(flate_max_memory=PDF_MAX_INFLATED_BYTES)


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


def download_name(name: str, content_type: str) -> str:
    """The name a stored file is served under: the sender's name made safe,
    with an extension that matches the type it is served as.

    A name whose extension already means that type keeps it ("photo.jpeg");
    any other gets the type's own ("update.hta" stored as a PDF is served as
    "update.pdf"), so a browser or desktop never opens it as something else.
    """
    name = display_name(name)
    extension = extension_of(name)
    if extension in ACCEPTED and ACCEPTED[extension][1] == content_type:
        return name
    stem = name[: -len(extension) - 1] if extension else name
    return f"{stem or 'file'}.{_EXTENSIONS.get(content_type, 'bin')}"


def served_type(content_type: str) -> str:
    """The content type a stored file is served as: its checked type, or a
    download of unknown bytes for a type we no longer accept."""
    return content_type if content_type in _EXTENSIONS else "application/octet-stream"


def check_file(upload, *, subject: str | None = None) -> CheckedFile:
    """The upload's display name and type, or FileRefused saying what is wrong.

    Messages name the file, or ``subject`` where the page asks for one file
    ("The selected file is empty", as the GOV.UK file upload pattern says).
    """
    name = display_name(upload.name)
    subject = subject or name
    if upload.size == 0:
        raise FileRefused(f"{subject} is empty")
    if upload.size > max_upload_bytes():
        raise FileRefused(too_large_message(subject))
    extension = extension_of(name)
    if extension in _MACRO_EXTENSIONS:
        raise FileRefused(_macro_message(subject))
    if extension not in ACCEPTED:
        raise FileRefused(f"{subject} must be a {ACCEPTED_LABEL}")
    upload.seek(0)
    head = upload.read(_SNIFF_BYTES)
    upload.seek(0)
    detected = magic.from_buffer(head, mime=True)
    allowed, served_as = ACCEPTED[extension]
    if detected not in allowed:
        raise FileRefused(
            f"{subject} is not really a {extension.upper()} file. "
            "Check the file, or save it again in the right format"
        )
    if extension in _ARCHIVE_MARKERS:
        _check_archive(upload, subject, extension)
    elif extension == "pdf":
        _check_pdf(upload, subject)
    elif served_as.startswith("text/"):
        _check_text(upload, subject)
    return CheckedFile(display_name=name, content_type=served_as)


def _macro_message(subject: str) -> str:
    return (
        f"{subject} contains macros, which can run code. Save it again without "
        "macros (as a DOCX, XLSX or ODT), or as a PDF, and try again"
    )


def _damaged_message(subject: str) -> str:
    return f"{subject} is damaged and cannot be opened. Save it again and try again"


def _check_archive(upload, subject: str, extension: str) -> None:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARCHIVE_MEMBERS:
                raise FileRefused(f"{subject} has too many parts to be a document")
            unpacked = sum(member.file_size for member in members)
            packed = max(sum(member.compress_size for member in members), 1)
            if unpacked > MAX_UNPACKED_BYTES or (
                unpacked > 10 * 1024 * 1024
                and unpacked / packed > MAX_COMPRESSION_RATIO
            ):
                raise FileRefused(
                    f"{subject} unpacks to far more than its size, so it cannot be "
                    "accepted. Save it again, or send it as a PDF"
                )
            names = {member.filename for member in members}
            if _ARCHIVE_MARKERS[extension] not in names:
                raise FileRefused(f"{subject} is not a real {extension.upper()}")
            if any(_MACRO_MEMBER.search(member) for member in names):
                raise FileRefused(_macro_message(subject))
            for member in members:
                _check_member(archive, member, subject)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise FileRefused(_damaged_message(subject)) from exc
    except RuntimeError as exc:
        # Encrypted members, or a compression method Office does not use
        # (zipfile's error for an unsupported method is a RuntimeError).
        raise FileRefused(_damaged_message(subject)) from exc
    finally:
        upload.seek(0)


def _check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, subject: str):
    """Inflate the member to its end, keeping only relationship files.

    The sizes checked above are what the archive says about itself; reading
    every member makes zipfile check each one's CRC against what it really
    inflates to, so a member that lies about its size is refused as damaged.
    The sizes already checked bound the work.
    """
    keep = member.filename.lower().endswith(".rels")
    kept = bytearray()
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK_BYTES):
            if keep and len(kept) < _MAX_RELS_BYTES:
                kept += chunk
    if keep and _REMOTE_CODE_RELATIONSHIP.search(kept):
        raise FileRefused(
            f"{subject} loads content from the internet when it is opened, "
            "which can run code. Save it again as a PDF and try again"
        )


def _check_pdf(upload, subject: str) -> None:
    """A plain PDF: no web page markup in its bytes, and nothing in its
    objects that runs, launches, carries files or builds an XFA form."""
    if _has_markup(upload):
        raise FileRefused(
            f"{subject} is not a plain PDF: it also contains web page code. "
            "Save it again as a PDF and try again"
        )
    upload.seek(0)
    try:
        with pikepdf.open(upload) as pdf:
            problem = _pdf_problem(pdf)
    except pikepdf.PasswordError as exc:
        raise FileRefused(
            f"{subject} is protected with a password. Save a copy without the "
            "password and try again"
        ) from exc
    except (pikepdf.PdfError, RuntimeError, ValueError) as exc:
        raise FileRefused(_damaged_message(subject)) from exc
    finally:
        upload.seek(0)
    if problem:
        raise FileRefused(f"{subject} {problem}")


def _has_markup(upload) -> bool:
    upload.seek(0)
    tail = b""
    try:
        for chunk in upload.chunks(_CHUNK_BYTES):
            if _MARKUP.search(tail + chunk):
                return True
            tail = chunk[-_MARKUP_OVERLAP:]
    finally:
        upload.seek(0)
    return False


_PDF_PROBLEMS = {
    "script": (
        "is a PDF with active content such as scripts. Save it again as a plain "
        "PDF and try again"
    ),
    "embedded": (
        "is a PDF with other files inside it. Save it again as a plain PDF, "
        "send any other files separately, and try again"
    ),
    "xfa": (
        "is a PDF form that can run code (an XFA form). Save it again as a "
        "plain PDF and try again"
    ),
    "complex": ("is too complex to check. Save it again as a plain PDF and try again"),
}


def _pdf_problem(pdf: pikepdf.Pdf) -> str | None:
    """What makes this PDF active, or None for a plain one.

    Visits every object in the file (those in compressed object streams and
    those nothing refers to included) and every dictionary and array inside
    them. Indirect references are not followed: their targets are visited as
    objects of their own, which keeps the walk linear and free of cycles.
    """
    pending = list(pdf.objects)
    pending.append(pdf.trailer)
    visited = 0
    while pending:
        obj = pending.pop()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            return _PDF_PROBLEMS["complex"]
        if isinstance(obj, pikepdf.Array):
            children = list(obj)
        elif isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
            if problem := _dictionary_problem(obj):
                return _PDF_PROBLEMS[problem]
            children = [child for _, child in obj.items()]
        else:
            continue
        pending.extend(
            child
            for child in children
            if isinstance(child, pikepdf.Object) and not child.is_indirect
        )
    return None


def _dictionary_problem(obj) -> str | None:
    keys = set(obj.keys())
    if keys & _PDF_SCRIPT_KEYS:
        return "script"
    if keys & _PDF_EMBEDDED_KEYS or _name(obj, "/Type") == "/EmbeddedFile":
        return "embedded"
    if "/XFA" in keys:
        return "xfa"
    # Actions (in /OpenAction, /AA, /A, /Next, anywhere) and Flash annotations.
    if _name(obj, "/S") in _PDF_ACTIVE_ACTIONS or _name(obj, "/Subtype") == (
        "/RichMedia"
    ):
        return "script"
    return None


def _name(obj, key: str) -> str:
    value = obj.get(key)
    return str(value) if isinstance(value, pikepdf.Name) else ""


def _check_text(upload, subject: str) -> None:
    """Text must be text: UTF-8 (or Windows' usual Latin encoding), no NULs."""
    upload.seek(0)
    try:
        for chunk in upload.chunks():
            if b"\x00" in chunk:
                raise FileRefused(f"{subject} is not a plain text file")
    finally:
        upload.seek(0)
