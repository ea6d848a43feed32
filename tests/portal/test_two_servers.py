"""Two app servers sharing PostgreSQL and Redis stay coherent (issue 23).

Starts two gunicorn instances of the portal (production settings) on two free
ports, both on this test database and one Redis database, and signs people in
with sessions that passed the second factor. A change made through one server
must show through the other on the very next request, and two people fetching
the same pages alternately through both servers must each only ever see their
own data: the shared caches (portal.freshness, portal.page_cache) must never
answer one person with a page built for another.

PostgreSQL and Redis only: SQLite is one file per process here, and the
servers would not share the test's data. `bench/two_servers.py` runs this.
"""

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from accounts.models import Role, role_group
from referrals.models import Status
from tests.factories import OrganisationFactory, TOTPDeviceFactory, UserFactory
from tests.factories.agreements import acknowledge, agreement_tree, signatory_for
from tests.factories.documents import PDF
from tests.factories.referrals import submitted_referral

# One Redis database serves both tests' servers, under the production
# settings' fixed key prefix: under pytest-xdist (make test, --dist loadgroup)
# the two tests run on one process, one after the other, so servers on two
# test databases never share cached pages.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("two_app_servers"),
]

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TWO_SERVERS_REDIS_URL", "redis://127.0.0.1:6379/11")


def _redis_answers() -> bool:
    host, port = re.match(r"redis://([^:/]+):(\d+)", REDIS_URL).groups()
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def shared_cache(settings):
    """This process writes to the servers' Redis too, so a change made here
    (the test's setup) outdates what they cached, as a third server would."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "Two servers need PostgreSQL: set DATABASE_URL (SQLite is per file)"
        )
    if not _redis_answers():
        pytest.skip(f"Two servers need Redis at {REDIS_URL}")
    settings.CACHES = {
        "default": {
            "BACKEND": "portal.redis_cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portal",
        }
    }
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def servers(shared_cache, settings, tmp_path):
    """Two gunicorn servers (one worker each) on this database and Redis."""
    # Production refuses the development key; this process signs sessions
    # with the same one as the servers.
    settings.SECRET_KEY = secrets.token_urlsafe(64)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        # The same keys as this process: session hashes and the audit chain.
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DJANGO_AUDIT_HMAC_KEY": settings.AUDIT_HMAC_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_BASE_URL": "https://portal.test.invalid",
        "DJANGO_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_PRIVATE_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "DJANGO_AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        "DJANGO_CLAMAV_ADDRESS": "",
        "DJANGO_CLAMAV_DISABLED": "true",
        "PYTHONPATH": str(REPO),
    }
    if not (REPO / "var" / "staticfiles" / "staticfiles.json").exists():
        # Production serves hashed static files from the manifest, as make
        # bench does; collected once per checkout.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
            cwd=REPO, env=env, check=True,
        )  # fmt: skip
    started = []
    try:
        for _ in range(2):
            port = _free_port()
            # Our own fixed command on loopback.
            process = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "gunicorn", "portal.wsgi", "--workers", "1",
                 "--bind", f"127.0.0.1:{port}", "--timeout", "120",
                 "--log-level", "warning"],
                cwd=REPO, env=env,
            )  # fmt: skip
            started.append((process, f"http://127.0.0.1:{port}"))
        for process, base in started:
            _wait_for(process, base)
        yield [base for _, base in started]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(timeout=30)


def _wait_for(process, base: str) -> None:
    for _ in range(300):
        if process.poll() is not None:
            pytest.fail(f"gunicorn at {base} exited with {process.returncode}")
        try:
            # Any answer will do: the worker loads the portal on its first.
            requests.get(f"{base}/health/", timeout=30)
            return
        except requests.RequestException:
            time.sleep(0.2)
    pytest.fail(f"gunicorn at {base} did not answer")


class Person:
    """One person's browser: a verified session sent to whichever server."""

    def __init__(self, user):
        device = user.totpdevice_set.filter(confirmed=True).first()
        device = device or TOTPDeviceFactory(user=user)
        session = SessionStore()
        session.update(
            {
                "_auth_user_id": str(user.pk),
                "_auth_user_backend": "accounts.backends.PartnerBackend",
                "_auth_user_hash": user.get_session_auth_hash(),
                DEVICE_ID_SESSION_KEY: device.persistent_id,
            }
        )
        session.create()
        self.user = user
        self.http = requests.Session()
        # Cookies carry no port: both servers get the same ones, as behind
        # a load balancer.
        self.http.cookies.set("sessionid", session.session_key)

    def get(self, base: str, path: str) -> requests.Response:
        return self.http.get(f"{base}{path}", allow_redirects=False, timeout=60)

    def post(
        self, base: str, path: str, data: dict, files=None, form_page: str = ""
    ) -> requests.Response:
        """Post as the form on ``form_page`` (default: ``path``) does."""
        page = self.get(base, form_page or path)
        assert page.status_code == 200, (form_page or path, page.status_code)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        data = {**data, "csrfmiddlewaretoken": token.group(1)}
        return self.http.post(
            f"{base}{path}",
            data=data,
            files=files,
            allow_redirects=False,
            timeout=60,
            headers={"Referer": f"{base}{path}"},
        )


def _recall_of(share_page: str) -> str:
    share_id = share_page.rstrip("/").rsplit("/", 1)[-1]
    return reverse("documents:recall", args=[share_id])


def _ok(response) -> str:
    assert response.status_code == 200, (response.url, response.status_code)
    return response.text


def test_a_change_through_one_server_shows_through_the_other(servers):
    one, two = servers
    _, isa, organisations, _ = agreement_tree()
    sender_org, recipient_org = organisations[0], organisations[1]
    sender = Person(UserFactory(organisation=sender_org, roles=[Role.REFERRER]))
    recipient = Person(UserFactory(organisation=recipient_org, roles=[Role.REFERRER]))
    signer = Person(signatory_for(recipient_org))
    coordinator = Person(
        UserFactory(organisation=organisations[2], roles=[Role.COORDINATOR])
    )
    # Case material and sharing need the ISA acknowledged at both ends: the
    # recipient's signatory does it below, through a server.
    acknowledge(isa.latest_version, sender_org)
    acknowledge(isa.latest_version, organisations[2])

    # Agreement acknowledgement: through one, the other shows it.
    version = isa.latest_version
    agreement = isa.url
    before = _ok(signer.get(two, agreement))
    response = signer.post(
        one,
        reverse("agreements:acknowledge", args=[version.pk]),
        {"confirm": "on", "signatory_name": "Pat Signer", "signatory_role": "Head"},
    )
    assert response.status_code == 302, response.text[:2000]
    assert "Acknowledgement recorded" in _ok(
        signer.get(two, response.headers["Location"])
    )
    after = _ok(signer.get(two, agreement))
    outstanding = 'govuk-tag--yellow">Outstanding'
    assert outstanding in before
    assert outstanding not in after

    # A file share: made through one, the recipient's list on the other has it.
    assert "notes-two-servers.pdf" not in _ok(
        recipient.get(two, reverse("documents:index"))
    )
    form = _ok(sender.get(one, reverse("documents:new")))
    key = re.search(r'name="submission_key"[^>]*value="([^"]+)"', form).group(1)
    until = time.localtime(time.time() + 5 * 86400)
    response = sender.post(
        one,
        reverse("documents:new"),
        {"submission_key": key, "target": "organisations",
         "organisations": [recipient_org.pk], "note": "",
         "expires_0": until.tm_mday, "expires_1": until.tm_mon,
         "expires_2": until.tm_year},
        files=[("files", ("notes-two-servers.pdf", PDF, "application/pdf"))],
    )  # fmt: skip
    assert response.status_code == 302, response.text[:2000]
    share_page = response.headers["Location"]
    assert "notes-two-servers.pdf" in _ok(
        recipient.get(two, reverse("documents:index"))
    )
    assert "notes-two-servers.pdf" in _ok(recipient.get(two, share_page))

    # Its recall: through one, the other says so on the next request.
    response = sender.post(
        one, _recall_of(share_page), {"reason": "Sent to the wrong agency"}
    )
    assert response.status_code == 302, response.text[:2000]
    assert "These files were recalled on" in _ok(recipient.get(two, share_page))

    # A referral's status: changed through one, the referrer sees it on the other.
    referral = submitted_referral(sender.user)
    detail = reverse("referrals:detail", args=[referral.reference])
    assert "Screening" not in _ok(sender.get(two, reverse("referrals:index")))
    response = coordinator.post(
        one,
        reverse("referrals:change_status", args=[referral.reference]),
        {"to_status": Status.SCREENING, "expected_status": Status.SUBMITTED},
        form_page=detail,
    )
    assert response.status_code == 302, response.text[:2000]
    assert "Screening" in _ok(sender.get(two, detail))
    assert "Screening" in _ok(sender.get(two, reverse("referrals:index")))

    # A role removed (as the admin's user form does): both servers refuse at once.
    assert sender.get(one, reverse("documents:new")).status_code == 200
    assert sender.get(two, reverse("documents:new")).status_code == 200
    sender.user.groups.remove(role_group(Role.REFERRER))
    assert sender.get(two, reverse("documents:new")).status_code != 200
    assert sender.get(one, reverse("documents:new")).status_code != 200


def test_no_cached_page_shows_one_person_another_persons_data(servers):
    organisations = [
        OrganisationFactory(name=f"Agency {letter} two servers") for letter in "AB"
    ]
    _, isa, _, _ = agreement_tree(organisations=organisations)
    people = []
    for organisation in organisations:
        acknowledge(isa.latest_version, organisation)
        user = UserFactory(organisation=organisation, roles=[Role.REFERRER])
        people.append((Person(user), submitted_referral(user).reference))
    paths = [
        "/",
        reverse("referrals:index"),
        reverse("documents:index"),
        isa.url,
        reverse("accounts:account"),
    ]
    # Each person's own referral page, fetched by both: the owner is answered,
    # the other refused, whichever server cached what first.
    details = {
        reference: reverse("referrals:detail", args=[reference])
        for _, reference in people
    }
    seen = {}
    for _ in range(3):
        for path in [*paths, *details.values()]:
            for index, base in enumerate(servers):
                order = people if index == 0 else people[::-1]
                for person, own in order:
                    response = person.get(base, path)
                    if path in details.values() and path != details[own]:
                        assert response.status_code in (403, 404), path
                        continue
                    text = _ok(response)
                    seen.setdefault((person.user.pk, path), set()).add(text)
                    for other, reference in people:
                        if other is person:
                            continue
                        assert other.user.get_full_name() not in text, path
                        assert other.user.email not in text, path
                        assert reference not in text, path
    for person, own in people:
        assert own in "".join(seen[(person.user.pk, reverse("referrals:index"))])
        assert own in "".join(seen[(person.user.pk, details[own])])
        # The pages name their reader, so the checks above had something to
        # find had a page been built for the other person.
        pages = "".join(t for (pk, _), texts in seen.items() if pk == person.user.pk
                        for t in texts)  # fmt: skip
        assert person.user.get_full_name() in pages
