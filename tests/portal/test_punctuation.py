"""No sentence on a page ends in doubled punctuation.

Text people type (an action's description, an organisation's name) often
ends with its own full stop; a template that adds ", due 6 December 2026"
after it printed "for legal review., due". This walks every page the demo's
people can reach from the home page, as they would, and reads the words a
person sees.
"""

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from accounts.models import User
from tests.browser.test_every_page import SKIPPED_PARTS, SKIPPED_SUFFIXES
from tests.conftest import verified_client_for

# A walk over the whole portal: `make test` runs it, `make test-fast` does not.
pytestmark = [pytest.mark.django_db, pytest.mark.sweep]

PEOPLE = ["coordinator", "police.referrer", "police.signatory", "housing.referrer"]
MAX_PAGES = 250
# A mark straight after another (spaces allowed), as in "review., due" or
# "name, ,"; an ellipsis ("...", "…") is one mark, not two.
DOUBLED = re.compile(
    r"(?<![.])[.,;:!?]\s*[,;:]|(?<![.])[,;:]\s*[.](?![.])|(?<![.])\.\s?\.(?![.])"
)
TEXT_BLOCKS = ["p", "li", "dd", "dt", "td", "th", "h1", "h2", "h3", "legend",
               "label", "span", "a", "caption", "div"]  # fmt: skip
LEFT_OUT = ("/admin/", "/django-admin/", "/sign-out/", "/referrals/new/")


def _words(html: str) -> list[str]:
    """Each block of text a person reads, with scripts and styles left out."""
    soup = BeautifulSoup(html, "html.parser")
    for hidden in soup(["script", "style", "template", "noscript"]):
        hidden.decompose()
    blocks = soup.find_all(TEXT_BLOCKS)
    texts = []
    for block in blocks:
        if block.find(["p", "li", "dd", "td", "div"]):
            continue  # its children are read on their own
        texts.append(" ".join(block.get_text(" ").split()))
    return texts


def _links(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for anchor in soup.find_all("a", href=True):
        href = anchor["href"]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        path = parts.path.lower()
        if anchor.has_attr("download") or path.startswith(LEFT_OUT):
            continue
        if any(part in path for part in SKIPPED_PARTS) or path.endswith(
            SKIPPED_SUFFIXES
        ):
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


@pytest.mark.parametrize("username", PEOPLE)
def test_no_doubled_punctuation_on_any_page(demo_seeded, username):
    client = verified_client_for(User.objects.get(username=username))
    queue, seen, problems, read = deque(["/"]), {"/"}, [], 0
    while queue and read < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response["Content-Type"]:
            continue
        read += 1
        html = response.content.decode()
        for text in _words(html):
            for match in DOUBLED.finditer(text):
                start = max(match.start() - 40, 0)
                problems.append(f"{url}: ...{text[start : match.end() + 20]}")
        for link in _links(html):
            if link not in seen and urlsplit(link).path.count("?") == 0:
                seen.add(link)
                queue.append(link)
    assert read > 10, "the walk should reach the demo's pages"
    assert problems == [], "\n".join(sorted(set(problems)))
