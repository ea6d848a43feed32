"""The one PDF renderer: a print template and context in, PDF bytes out.

Print templates live in ``templates/<app>/pdf/`` and extend
``includes/pdf_base.html``. WeasyPrint may fetch only ``data:`` URLs and our own
static files: its default fetcher reads ``file://`` URLs and follows remote ones,
which could embed a server file or leak a request (see ../shared/LANDMINES.md).
https://doc.courtbouillon.org/weasyprint/stable/first_steps.html#security
"""

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

# Relative and /static/ URLs in print templates resolve against this origin,
# which the fetcher maps onto our static files and never contacts.
BASE_URL = "https://portal.invalid/"


class StaticOnlyFetcher(URLFetcher):
    """Serves ``data:`` URLs and files from our static files; refuses the rest."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parts = urlsplit(url)
        static_prefix = settings.STATIC_URL
        if (
            parts.scheme == "https"
            and parts.netloc == urlsplit(BASE_URL).netloc
            and parts.path.startswith(static_prefix)
        ):
            relative = unquote(parts.path[len(static_prefix) :])
            path = _static_file(relative)
            if path is not None:
                content_type = (
                    mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                )
                return URLFetcherResponse(
                    url, path.read_bytes(), {"Content-Type": content_type}
                )
        logger.warning(
            "PDF rendering refused a resource: %s://%s%s",
            parts.scheme,
            parts.netloc,
            parts.path,
        )
        raise ValueError("Only data: URLs and the portal's static files may be used")


def _static_file(relative: str) -> Path | None:
    if not relative or ".." in Path(relative).parts or relative.startswith("/"):
        return None
    found = finders.find(relative)
    return Path(found) if found else None


def render_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    """Render ``template_name`` with ``context`` to PDF bytes."""
    html = render_to_string(template_name, context, request=request)
    return html_to_pdf(html)


def html_to_pdf(html: str) -> bytes:
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher())
    return document.write_pdf()
