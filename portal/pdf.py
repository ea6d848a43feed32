"""The one PDF renderer: a print template and context in, PDF bytes out.

Print templates live in ``templates/<app>/pdf/`` and extend
``includes/pdf_base.html``. WeasyPrint may fetch only ``data:`` URLs and our own
static files: its default fetcher reads ``file://`` URLs and follows remote ones,
which could embed a server file in a PDF or leak a request.
https://doc.courtbouillon.org/weasyprint/stable/first_steps.html#security
"""

import logging
import mimetypes
import re
from pathlib import Path, PurePosixPath
from urllib.parse import SplitResult, unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
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


def html_to_pdf(html: str) -> bytes:
    """Turn a rendered print template into PDF bytes.

    The PDF is tagged (headings, tables, reading order) so screen readers can
    follow it; its title comes from the template's ``<title>``.
    """
    base_url = static_base_url()
    document = HTML(
        string=html, base_url=base_url, url_fetcher=StaticFilesFetcher(base_url)
    )
    return document.write_pdf(pdf_tags=True)
