"""The response that hands a stored private file to the person downloading it,
and the page shown instead when the file is missing from storage.

One place for the headers, so every download (shared files, referral
attachments) is served the same safe way:

- streamed from storage in chunks, never read whole into memory;
- always a download (``Content-Disposition: attachment``), never shown inline,
  under the sender's name made safe with an extension matching its checked
  type (files.checks.download_name);
- the checked type as ``Content-Type``, with ``nosniff`` so a browser never
  guesses another, and a policy that lets nothing in it run;
- never cached, by the browser or anything in between.
"""

import logging

from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header

from audit.models import Outcome
from audit.services import audit_record

from .checks import download_name, served_type
from .storage import stream_chunks

logger = logging.getLogger(__name__)


def private_file_response(
    *, file: FieldFile, name: str, content_type: str, size: int
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        stream_chunks(file.storage, file.name), content_type=served_type(content_type)
    )
    response["Content-Length"] = str(size)
    # RFC 6266 filename, with RFC 5987 encoding for names outside ASCII.
    response["Content-Disposition"] = content_disposition_header(
        True, download_name(name, content_type)
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


def missing_file_page(
    request: HttpRequest, *, obj: Model, name: str, action: str,
    sender: str = "", back_url: str = "",
) -> HttpResponse:  # fmt: skip
    """410 Gone, in plain words, for a row whose stored file is not there,
    instead of a server error; the failed download is audited."""
    logger.error("Stored file missing for %s %s", obj._meta.label_lower, obj.pk)
    audit_record(
        action=action,
        request=request,
        obj=obj,
        outcome=Outcome.FAILURE,
        detail={"reason": "file missing from storage"},
    )
    return render(
        request,
        "documents/file_missing.html",
        {"name": name, "sender": sender, "back_url": back_url},
        status=410,
    )
