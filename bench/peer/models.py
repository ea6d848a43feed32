"""The benchmark's peer: a stock Wagtail page with no portal logic, served by
the same server, to compare portal pages against."""

from wagtail.models import Page


class PeerPage(Page):
    template = "peer/peer_page.html"
