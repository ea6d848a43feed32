"""The one PDF renderer: a print template and context in, PDF bytes out.

Print templates live in ``templates/<app>/pdf/`` and extend
``includes/pdf_base.html``. WeasyPrint may fetch only ``data:`` URLs and our own
static files: its default fetcher reads ``file://`` URLs and follows remote ones,
which could embed a server file in a PDF or leak a request.
https://doc.courtbouillon.org/weasyprint/stable/first_steps.html#security
"""

import functools
import logging
import math
import mimetypes
import multiprocessing
import re
import signal
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path, PurePosixPath
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.db import connections
from django.template.loader import render_to_string
from django.utils._os import safe_join
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

# WeasyPrint logs every resource it failed to load with the full URL. A query
# string can carry a token (a signed storage URL), so keep it out of the logs.
_QUERY_STRING = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*:[^\s?#'\"]*)\?[^\s#'\"]*")


class _DropQueryStrings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _QUERY_STRING.sub(r"\1", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


logging.getLogger("weasyprint").addFilter(_DropQueryStrings())


def static_base_url() -> str:
    """The base URL of print templates: the portal's static files.

    Relative URLs resolve to static files and root-relative links (``{% url %}``)
    to the real portal, so links in a PDF work. The fetcher maps static URLs onto
    files on disk and never contacts the portal.
    """
    return urljoin(
        settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/", settings.STATIC_URL
    )


class StaticFilesFetcher(URLFetcher):
    """Serves ``data:`` URLs and our static files to WeasyPrint; refuses the rest.

    Refused URLs (``file:``, remote, anything else) cost no disk or network access:
    WeasyPrint leaves the resource out and carries on.
    https://doc.courtbouillon.org/weasyprint/stable/first_steps.html#url-fetchers
    """

    def __init__(self, static_url: str, **kwargs):
        # Belt and braces: the parent's fetch, used for data: URLs, may open
        # nothing else.
        super().__init__(allowed_protocols=("data",), allow_redirects=False, **kwargs)
        self.static_url = urlsplit(static_url)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        try:
            parts = urlsplit(url)
        except ValueError:
            logger.warning("PDF rendering refused a malformed URL")
            raise
        if parts.scheme == "data":
            return super().fetch(url, headers)
        path = self._static_file(parts)
        if path is None:
            logger.warning(
                "PDF rendering refused a resource outside the static files: %s",
                f"{parts.scheme}://{parts.netloc}{parts.path}",
            )
            raise ValueError("Only data: URLs and the portal's static files are used")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, path.read_bytes(), {"Content-Type": content_type}
        )

    def _static_file(self, parts: SplitResult) -> Path | None:
        prefix = self.static_url
        if (parts.scheme, parts.netloc) != (prefix.scheme, prefix.netloc):
            return None
        if not parts.path.startswith(prefix.path):
            return None
        name = unquote(parts.path.removeprefix(prefix.path))
        relative = PurePosixPath(name)
        if not name or relative.is_absolute() or ".." in relative.parts or "\\" in name:
            return None
        try:
            found = finders.find(name) or _collected_static_file(name)
        except SuspiciousFileOperation:  # Django's own guard against escapes
            return None
        if found and Path(found).is_file():
            return Path(found)
        return None


def _collected_static_file(name: str) -> str | None:
    """A file from ``collectstatic``: ``{% static %}`` names hashed copies there.

    With the manifest storage a print template asks for ``img/logo.3f2a.svg``,
    which exists only in ``STATIC_ROOT``, not where the finders look.
    """
    # Static files are always collected to local disk (WhiteNoise serves them).
    if not settings.STATIC_ROOT:
        return None
    try:
        return safe_join(settings.STATIC_ROOT, name)
    except SuspiciousFileOperation:
        return None


def render_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    """Render the print template ``template_name`` with ``context`` to PDF bytes."""
    context = {"protective_marking": settings.PROTECTIVE_MARKING, **context}
    return html_to_pdf(render_to_string(template_name, context, request=request))


def _html(html: str) -> HTML:
    base_url = static_base_url()
    return HTML(
        string=html, base_url=base_url, url_fetcher=StaticFilesFetcher(base_url)
    )


def html_to_pdf(html: str) -> bytes:
    """Turn a rendered print template into PDF bytes.

    The PDF is tagged (headings, tables, reading order) so screen readers can
    follow it; its title comes from the template's ``<title>``.
    """
    return _html(html).write_pdf(pdf_tags=True)


def html_to_pdf_if_pages(html: str, pages: int) -> tuple[bytes | None, int]:
    """``html_to_pdf`` if the document lays out on ``pages`` pages; else no
    PDF, and the pages it needs. Laying out is most of a render; drawing and
    writing the PDF are left out when their result would be thrown away."""
    document = _html(html).render(pdf_tags=True)
    if len(document.pages) != pages:
        return None, len(document.pages)
    return document.write_pdf(pdf_tags=True), pages


def html_to_pdfs(
    documents: Sequence[str], *, processes: int | None = None
) -> list[bytes]:
    """``html_to_pdf`` of each of ``documents``, in order, rendered side by
    side in up to ``processes`` (``PDF_RENDER_PROCESSES``) child processes.

    WeasyPrint is pure Python, so threads would share one core. The children
    are forked, so they start with this process's settings, templates and
    fonts loaded; they render only (no queries). Any child's failure raises
    here, once the running ones finish and the rest are cancelled: no caller
    gets some of the PDFs.
    For background jobs: forking a web worker that runs other threads could
    copy a lock one of them holds. The children keep the parent's signal
    handlers, so a worker's graceful stop (django-tasks ``db_worker``) lets
    them finish the build it waits for.
    """
    processes = min(processes or settings.PDF_RENDER_PROCESSES, len(documents))
    if processes <= 1:
        return [html_to_pdf(html) for html in documents]
    seconds = settings.PDF_RENDER_TIMEOUT_SECONDS
    # Each child stops its own render after ``seconds`` (_render_in_time); a
    # child stuck where that cannot reach it (in a C library) is killed
    # once every round of renders has had its time and a grace period more.
    whole = seconds * math.ceil(len(documents) / processes) + RENDER_GRACE_SECONDS
    before = {child.pid for child in multiprocessing.active_children()}
    pool = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_forget_database_connections,
    )
    render = functools.partial(_render_in_time, seconds=seconds)
    try:
        return list(pool.map(render, documents, timeout=whole))
    except TimeoutError:
        for child in multiprocessing.active_children():
            if child.pid not in before:
                child.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# What html_to_pdfs allows beyond each render's own limit before it kills
# the children that have not answered.
RENDER_GRACE_SECONDS = 30


def _render_in_time(html: str, *, seconds: float) -> bytes:
    """In a child: ``html_to_pdf``, stopped with TimeoutError after
    ``seconds``, so a document that never finishes fails its build (and the
    build is retried or reported) instead of holding the worker for ever."""

    def expire(signum, frame):
        raise TimeoutError(f"a PDF took more than {seconds:g} s to render")

    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return html_to_pdf(html)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


# The parent's connections, kept referenced in a child so they are never
# closed there: closing would end the parent's session on the server.
_inherited_connections: list = []


def _forget_database_connections() -> None:
    """In a forked child: let go of the parent's database connections without
    closing them (the socket is shared), so a query here would open its own.
    Children exit without running finalizers (``os._exit``)."""
    for connection in connections.all(initialized_only=True):
        _inherited_connections.append(connection.connection)
        connection.connection = None
