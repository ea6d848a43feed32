"""The response that hands a stored private file to the person downloading it,
and the page shown instead when the file is missing from storage.

One place for the headers, so every download (shared files, referral
attachments) is served the same safe way:

- from local storage, the open file itself (Django's FileResponse), which
  gunicorn sends with sendfile(2): the bytes never pass through Python;
- from S3, a redirect to a signed link that works for 60 seconds
  (``S3_SIGNED_DOWNLOAD_SECONDS``), whose response-* parameters make S3 send
  the same type, name and cache headers; the view writes its audit event
  before it returns the redirect. With the setting at 0, S3 files are
  streamed through the portal in chunks, never read whole into memory;
- always a download (``Content-Disposition: attachment``), never shown inline,
  under the sender's name made safe with an extension matching its checked
  type (files.checks.download_name);
- the checked type as ``Content-Type``, with ``nosniff`` so a browser never
  guesses another, and a policy that lets nothing in it run;
- never cached, by the browser or anything in between.
"""

import logging
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Model
from django.db.models.fields.files import FieldFile
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.http import content_disposition_header

from audit.models import Outcome
from audit.services import audit_record

from .checks import download_name, served_type
from .storage import (
    DEFAULT_CHUNK_SIZE,
    is_s3,
    local_file,
    signed_url,
    stream_chunks,
)

logger = logging.getLogger(__name__)

NO_STORE = "private, no-store"


def private_file_response(
    *, file: FieldFile, name: str, content_type: str, size: int
) -> HttpResponseBase:
    """The response for a download the caller has authorised: open the file
    before writing the download's audit event (a missing one raises
    FileNotFoundError, so it is not recorded as downloaded), and close the
    response if the audit write fails."""
    storage, stored_name = file.storage, file.name
    served = served_type(content_type)
    disposition = content_disposition_header(True, download_name(name, content_type))
    seconds = settings.S3_SIGNED_DOWNLOAD_SECONDS
    if seconds > 0 and is_s3(storage):
        url = signed_url(
            storage,
            stored_name,
            seconds=min(seconds, 60),
            headers={
                "ResponseContentType": served,
                "ResponseContentDisposition": disposition,
                "ResponseCacheControl": NO_STORE,
            },
        )
        response = HttpResponseRedirect(url)
        # The link is a credential for a minute: never cached, never sent on.
        response["Cache-Control"] = NO_STORE
        response["Referrer-Policy"] = "no-referrer"
        return response
    opened = local_file(storage, stored_name)
    if opened is None:
        return private_stream_response(
            stream_chunks(storage, stored_name),
            name=name,
            content_type=content_type,
            size=size,
        )
    # FileResponse hands the open file to the WSGI server's file wrapper
    # (wsgi.file_wrapper), and gunicorn sends it with sendfile(2). Its length
    # is the file's own, so it always matches the bytes sent.
    # https://docs.djangoproject.com/en/5.2/ref/request-response/#fileresponse-objects
    response = FileResponse(opened, content_type=served)
    # Where there is no sendfile (tests, runserver), read in big chunks.
    response.block_size = DEFAULT_CHUNK_SIZE
    return _private_headers(response, disposition)


def private_stream_response(
    chunks: Iterable[bytes], *, name: str, content_type: str, size: int
) -> StreamingHttpResponse:
    """A private download made of ``chunks`` (``size`` bytes in all), with the
    same headers as a stored file's: for bytes that are not one stored file,
    such as a meeting pack with its reader's stamp appended."""
    response = StreamingHttpResponse(chunks, content_type=served_type(content_type))
    response["Content-Length"] = str(size)
    return _private_headers(
        response, content_disposition_header(True, download_name(name, content_type))
    )


def _private_headers(response: HttpResponseBase, disposition: str):
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = NO_STORE
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
