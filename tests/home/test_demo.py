"""From the demo, each role's home page shows real pending work."""

import re

import pytest

from accounts.models import User
from home.models import GuidancePage
from tests.conftest import verified_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(demo_seeded):
    return demo_seeded


def _needs(username) -> str:
    html = verified_client_for(User.objects.get(username=username)).get("/")
    html = html.content.decode()
    start = html.index("What needs you")
    section = html[start : html.index("Your account", start)]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("coordinator", ["Screening queue: 1", "waiting for more information",
                         "of signatory organisations have acknowledged it"]),
        ("editor", ["Your guidance due for review: 1", "Keeping case papers safe"]),
        ("police.referrer", ["Your draft referrals: 1", "Tenancy visit note.txt",
                             "papers issued"]),
        ("council.referrer", ["The panel has asked for more information on 1",
                              "Noise diary October.csv", "open actions: 1"]),
        ("housing.referrer", ["open actions: 1, 1 overdue"]),
        ("fire.signatory", ["Agreements to acknowledge"]),
    ],
)  # fmt: skip
def test_each_demo_role_sees_its_pending_work(seeded, username, expected):
    needs = _needs(username)
    for text in expected:
        assert text in needs, (username, text, needs)


def test_the_demo_guidance_has_one_page_past_review(seeded):
    pages = GuidancePage.objects.live()
    assert pages.count() == 4
    assert [p.title for p in pages if p.is_stale()] == ["Keeping case papers safe"]
