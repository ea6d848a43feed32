"""Every page a user can reach passes axe-core with no serious or critical violations.

With the demo loaded once for the module (``seed_demo``), for each demo role:
sign in through the real pages (password, then a security code), then follow
every same-origin ``<a href>`` breadth-first from the home page, as that
person could. Forms are never submitted, so nothing is changed on the way.
On each page the response must be below 400 and axe-core must find nothing
serious or critical; the test reports every failure at the end, with the page
the link came from.

Left out of the crawl:

- Signing out (``/sign-out/``, anything with "logout").
- File downloads: links with a ``download`` attribute, URLs ending ``.pdf``,
  ``.csv``, ``.xlsx`` or ``.txt``, or holding ``/download/``, ``/summary.pdf``,
  ``/pack``, ``/minutes.pdf``, ``/pdf/`` (agreement and receipt PDFs),
  ``/documents/`` (Wagtail documents) or a referral attachment.
- Wagtail's own admin (``/admin/``, ``/django-admin/``): its accessibility is
  Wagtail's to answer for, and its pages would more than fill the cap. Not
  even our admin dashboard is visited here; tests/*/test_admin.py cover it.
- Fragment-only links (``#main-content``); fragments are dropped from the rest.
- Query-string variants of a path beyond the first two (pagination, filters).

The crawl stops at ``MAX_PAGES`` per role and fails, so that growth is noticed
and the cap raised on purpose. The URLs visited are written, per role, to
``var/axe-pages-<role>.json``.
"""

import io
import json
import re
import time
from collections import defaultdict, deque
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from accounts.models import User
from meetings.models import MeetingPack
from tests.conftest import _demo_pdf as demo_pdf
from tests.conftest import current_code

from .conftest import AXE_RUN, AXE_SCRIPT, BLOCKING_IMPACTS

# No django_db mark: database access comes from transactional_db below.
pytestmark = pytest.mark.browser

ROLES = [
    "coordinator",
    "editor",
    "admin",
    "police.referrer",
    "police.signatory",
    "housing.referrer",
]

MAX_PAGES = 200
SEARCHES = ("/search/?q=meeting", "/search/?q=Alex", "/search/?q=zzzz")
SIGNED_OUT = ("/about/", "/sign-in/", "/password-reset/")
# Landing here from any other link means the session was lost.
SIGN_IN_PAGES = ("/sign-in/", "/sign-in/security-code/")
QUERY_VARIANTS_PER_PATH = 2

SKIPPED_PREFIXES = ("/admin/", "/django-admin/", "/sign-out/")
SKIPPED_PARTS = (
    "logout",
    "/download/",
    "/summary.pdf",
    "/pack",
    "/minutes.pdf",
    "/pdf/",
    "/documents/",
)
SKIPPED_SUFFIXES = (".pdf", ".csv", ".xlsx", ".txt")
# A referral's attachment is served as a download.
ATTACHMENT = re.compile(r"^/referrals/[^/]+/attachments/\d+/$")

LINKS_SCRIPT = """
anchors => anchors.map(a => ({
    href: a.href,
    raw: a.getAttribute("href") || "",
    download: a.hasAttribute("download"),
}))
"""


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo partnership, with its meeting packs built, once for the module.

    The crawls only read (forms are never submitted), so one load serves every
    role instead of a load and an emptying per role. It is committed for real
    (the live server reads it from its own connection), and the seed's
    on-commit callbacks build the packs with the immediate task backend. The
    database is emptied after the module, as after any transactional test
    (tests/conftest.py puts the migrations' rows back). The demo's shared
    files are rendered once per process, as for ``demo_seeded``.
    """
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        patch.setattr("documents.demo.html_to_pdf", demo_pdf)
        call_command("seed_demo", "--json", stdout=io.StringIO())
        patch.undo()
        assert MeetingPack.objects.exists(), "seed_demo built no meeting packs"
        try:
            yield
        finally:
            call_command("flush", verbosity=0, interactive=False)


@pytest.fixture
def transactional_db(demo, django_db_blocker):
    """pytest-django's own, which the live server asks for, empties the
    database after each test; here the module's demo stays until the end."""
    with django_db_blocker.unblock():
        yield


def sign_in(crawl, username: str) -> None:
    """Sign in with the demo password and a current code, checking both pages."""
    page = crawl.page
    person = User.objects.get(username=username)
    crawl.visit(f"{crawl.origin}/sign-in/", "(sign in)")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(settings.DEMO_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Security code")).to_be_visible()
    crawl.visited.append(crawl.path_of(page.url))
    crawl.check(crawl.path_of(page.url))
    device = TOTPDevice.objects.get(user=person, confirmed=True)
    page.get_by_label("Security code").fill(current_code(device))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Welcome, {person.first_name}"
    )


def normalise(url: str) -> str:
    """The URL without its fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", parts.query, ""))


def skipped(link: dict, origin: str) -> bool:
    """Whether a link is left out of the crawl (see the module docstring)."""
    if link["download"] or link["raw"].startswith("#") or not link["raw"]:
        return True
    parts = urlsplit(link["href"])
    if f"{parts.scheme}://{parts.netloc}" != origin:
        return True
    path = parts.path.lower()
    return (
        path.startswith(SKIPPED_PREFIXES)
        or any(part in path for part in SKIPPED_PARTS)
        or path.endswith(SKIPPED_SUFFIXES)
        or bool(ATTACHMENT.match(parts.path))
    )


def describe(url: str, violation: dict) -> str:
    targets = "; ".join(
        " ".join(str(part) for part in node["target"]) for node in violation["nodes"]
    )
    return (
        f"{url}: {violation['id']} ({violation['impact']}) "
        f"{violation['help']} -> {targets}"
    )


class Crawl:
    """Breadth-first over one signed-in person's pages, axe-core on each."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.origin = base_url.rstrip("/")
        self.visited: list[str] = []
        self.seen: set[str] = set()
        self.queries: dict[str, set[str]] = defaultdict(set)
        self.errors: list[str] = []
        self.violations: list[str] = []
        # Minor and moderate: in the report, for review, not failing.
        self.for_review: list[str] = []
        self.capped = False

    def check(self, url: str) -> None:
        """Run axe-core on the page that is open; keep what blocks."""
        results = self.page.evaluate(AXE_RUN)
        for violation in results["violations"]:
            if violation["impact"] in BLOCKING_IMPACTS:
                self.violations.append(describe(url, violation))
            else:
                self.for_review.append(describe(url, violation))

    def path_of(self, url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def admit(self, url: str) -> bool:
        """Whether to queue ``url``: not seen, and within the query variants."""
        if url in self.seen:
            return False
        parts = urlsplit(url)
        if parts.query:
            variants = self.queries[parts.path]
            if len(variants) >= QUERY_VARIANTS_PER_PATH:
                return False
            variants.add(parts.query)
        self.seen.add(url)
        return True

    def run(self, start: str) -> None:
        queue = deque([(start, "(start)")])
        self.seen.add(start)
        while queue:
            if len(self.visited) >= MAX_PAGES:
                self.capped = True
                return
            url, source = queue.popleft()
            if not self.visit(url, source):
                continue
            landed = urlsplit(self.page.url).path
            if landed in SIGN_IN_PAGES and landed != urlsplit(url).path:
                self.errors.append(
                    f"{self.path_of(url)} (linked from {source}): "
                    "sent back to sign in; crawl stopped"
                )
                return
            self.seen.add(normalise(self.page.url))
            for link in self.page.eval_on_selector_all("a[href]", LINKS_SCRIPT):
                if skipped(link, self.origin):
                    continue
                target = normalise(link["href"])
                if self.admit(target):
                    queue.append((target, self.path_of(url)))

    def visit(self, url: str, source: str) -> bool:
        """Open ``url``, note its status and run axe-core; False if it failed."""
        where = f"{self.path_of(url)} (linked from {source})"
        try:
            response = self.page.goto(url)
        except PlaywrightError as error:
            self.errors.append(f"{where}: {error.message.splitlines()[0]}")
            return False
        self.visited.append(self.path_of(url))
        status = response.status if response else 0
        if status >= 400:
            self.errors.append(f"{where}: HTTP {status}")
        self.check(self.path_of(url))
        return True


def _crawl_group(role: str):
    return pytest.mark.xdist_group(
        f"{__name__}-{'coordinator' if role == 'coordinator' else 'others'}"
    )


def _crawl_groups():
    """The coordinator's crawl (about 140 pages) apart from the other five
    (about 220 together): two xdist groups, so two processes can crawl at
    once, each with its own copy of the demo. A marker given with the
    parameter comes before the module's own group (tests/conftest.py)."""
    return [pytest.param(role, marks=_crawl_group(role)) for role in ROLES]


@pytest.mark.parametrize("username", _crawl_groups())
def test_every_page_passes_axe(page, live_server, demo, username):
    started = time.monotonic()
    # axe-core is added to every page as it loads rather than sent again after
    # each load: about 0.1 s a page less.
    page.context.add_init_script(script=AXE_SCRIPT)
    crawl = Crawl(page, live_server.url)
    sign_in(crawl, username)
    crawl.run(normalise(f"{live_server.url}/"))
    # Pages reached by submitting the search form rather than by a link.
    for reached_by_form in SEARCHES:
        crawl.run(normalise(f"{live_server.url}{reached_by_form}"))

    report = settings.BASE_DIR / "var" / f"axe-pages-{username}.json"
    report.parent.mkdir(exist_ok=True)
    report.write_text(
        json.dumps(
            {
                "role": username,
                "pages": len(crawl.visited),
                "seconds": round(time.monotonic() - started, 1),
                "urls": crawl.visited,
                "minor_or_moderate": crawl.for_review,
            },
            indent=2,
        )
        + "\n"
    )

    problems = []
    if crawl.capped:
        problems.append(
            f"Stopped after {MAX_PAGES} pages: the portal has grown. Check "
            f"{report} and raise MAX_PAGES if the new pages are meant to be there."
        )
    if crawl.errors:
        problems.append("Pages that failed:\n  " + "\n  ".join(crawl.errors))
    if crawl.violations:
        problems.append(
            "Serious or critical axe-core violations:\n  "
            + "\n  ".join(crawl.violations)
        )
    assert not problems, f"As {username}, {len(crawl.visited)} pages:\n" + "\n".join(
        problems
    )


@_crawl_group("signed out")
def test_signed_out_pages_pass_axe(page, live_server):
    page.context.add_init_script(script=AXE_SCRIPT)
    crawl = Crawl(page, live_server.url)
    for path in SIGNED_OUT:
        crawl.visit(f"{live_server.url}{path}", "(signed out)")
    assert crawl.visited == list(SIGNED_OUT)
    assert not crawl.errors, crawl.errors
    assert not crawl.violations, "\n".join(crawl.violations)
