"""The portal's own address, for links that leave the browser (emails, PDFs).

One setting, ``DJANGO_BASE_URL`` (read into ``WAGTAILADMIN_BASE_URL``, which
Wagtail's own notification emails use), is the only source: never the host a
request happened to arrive on, which behind a proxy or load balancer can be an
internal name, and never Wagtail's Site record as first created (localhost on
port 80). https://docs.wagtail.org/en/stable/reference/settings.html#wagtailadmin-base-url
"""

from urllib.parse import urlsplit

from django.conf import settings


def base_url() -> str:
    """``https://portal.example.org``: scheme, host and port, no trailing slash."""
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/")


def absolute_url(path: str) -> str:
    """A link to ``path`` (which starts with "/") on the configured address."""
    return f"{base_url()}{path}"


def default_site_sync(**kwargs) -> None:
    """Keep Wagtail's default Site on the configured host and port.

    Wagtail builds ``Page.full_url`` (used in its "page approved" emails) from
    the Site record, which the first migration created as localhost on port 80.
    Run after every migrate, so changing DJANGO_BASE_URL and deploying is enough.
    """
    from wagtail.models import Site

    address = urlsplit(base_url())
    port = address.port or (443 if address.scheme == "https" else 80)
    for site in Site.objects.filter(is_default_site=True):
        if (site.hostname, site.port) != (address.hostname, port):
            site.hostname, site.port = address.hostname, port
            site.save()  # save(), not update(): Wagtail clears its site caches
