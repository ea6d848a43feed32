"""A Redis outage slows the portal down but signs nobody out and loses nothing.

Production keeps sessions in the database with Redis in front (cached_db) and
reaches Redis through portal.redis_cache, which treats an unreachable or hung
Redis as an empty cache. These tests run those settings against a stopped
Redis (a port nothing listens on), a hung one (accepts, never answers) and the
real Redis on this machine, restarted (emptied).
"""

import time
import uuid

import pytest
import redis
from django.core.cache import cache
from django.urls import reverse

from accounts.models import Role
from portal import freshness, redis_cache
from referrals.models import ReferralDraft
from tests.accounts.test_sign_in import sign_in
from tests.conftest import current_code, verified_client_for
from tests.factories import TOTPDeviceFactory, UserFactory
from tests.factories.referrals import complete_answers
from tests.faults import closed_port, silent_server

pytestmark = pytest.mark.django_db

REAL_REDIS = "redis://127.0.0.1:6379/15"
TIMEOUT = 0.5


def resilient_cache(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "portal.redis_cache.ResilientRedisCache",
            "LOCATION": location,
            # Each test its own keys on the shared Redis.
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
            "OPTIONS": {"socket_connect_timeout": TIMEOUT, "socket_timeout": TIMEOUT},
        }
    }


@pytest.fixture(autouse=True)
def _forget_outages():
    redis_cache._retry_at.clear()
    freshness._unsent.clear()
    yield
    redis_cache._retry_at.clear()
    freshness._unsent.clear()


@pytest.fixture
def production_sessions(settings):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"


@pytest.fixture
def stopped_redis(settings, production_sessions):
    settings.CACHES = resilient_cache(f"redis://127.0.0.1:{closed_port()}/0")


@pytest.fixture
def hung_redis(settings, production_sessions):
    with silent_server() as port:
        settings.CACHES = resilient_cache(f"redis://127.0.0.1:{port}/0")
        yield


@pytest.fixture
def real_redis(settings, production_sessions):
    try:
        redis.Redis.from_url(REAL_REDIS, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    settings.CACHES = resilient_cache(REAL_REDIS)
    yield
    cache.clear()


@pytest.fixture
def referrer():
    return UserFactory(roles=[Role.REFERRER])


def save_people_section(client) -> ReferralDraft:
    response = client.post(reverse("referrals:start"))
    assert response.status_code == 302
    draft = ReferralDraft.objects.latest("pk")
    url = reverse("referrals:section", args=[draft.public_id, "people"])
    answers = {
        name: values[0] if len(values) == 1 else values
        for name, values in complete_answers()["people"].items()
    }
    response = client.post(url, {**answers, "action": "save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return draft


def still_signed_in(client) -> bool:
    response = client.get(reverse("accounts:account"))
    return response.status_code == 200


class TestRedisStopped:
    def test_signed_in_person_stays_signed_in_and_saves_a_section(
        self, stopped_redis, referrer
    ):
        client = verified_client_for(referrer)
        draft = save_people_section(client)
        draft.refresh_from_db()
        assert draft.answers["people"] == complete_answers()["people"]
        assert still_signed_in(client)
        page = client.get(reverse("referrals:task_list", args=[draft.public_id]))
        assert page.status_code == 200

    def test_signing_in_works(self, stopped_redis, client):
        person = UserFactory()
        device = TOTPDeviceFactory(user=person)
        response = sign_in(client, person)
        assert response["Location"] == reverse("accounts:verify")
        response = client.post(
            reverse("accounts:verify"), {"code": current_code(device)}
        )
        assert response.status_code == 302
        assert client.get("/").status_code == 200

    def test_cached_pages_are_served_uncached(self, stopped_redis, referrer):
        client = verified_client_for(referrer)
        assert client.get("/").status_code == 200
        assert client.get(reverse("referrals:index")).status_code == 200


class TestRedisHung:
    def test_a_section_is_saved_after_at_most_one_wait(self, hung_redis, referrer):
        client = verified_client_for(referrer)
        started = time.monotonic()
        draft = save_people_section(client)
        # One socket timeout, then the cache is left alone for a while rather
        # than waited for on every call.
        assert time.monotonic() - started < 5 * TIMEOUT + 2
        draft.refresh_from_db()
        assert draft.answers["people"] == complete_answers()["people"]
        assert still_signed_in(client)


class TestRedisRestarted:
    def test_nobody_is_signed_out(self, real_redis, referrer):
        client = verified_client_for(referrer)
        assert still_signed_in(client)
        cache.clear()  # a restarted Redis has lost everything
        assert still_signed_in(client)
        draft = save_people_section(client)
        draft.refresh_from_db()
        assert draft.answers["people"] == complete_answers()["people"]


class TestFreshnessDuringAnOutage:
    def test_a_token_read_during_an_outage_is_never_the_kept_one(self, real_redis):
        kept = freshness.token()
        redis_cache._retry_at[cache._location] = time.monotonic() + 60
        assert freshness.token() != kept
        assert freshness.token() != kept

    def test_an_outdating_the_cache_missed_is_sent_when_it_is_back(
        self, real_redis, referrer, client
    ):
        kept = freshness.token()
        redis_cache._retry_at[cache._location] = time.monotonic() + 60
        freshness.outdate()
        redis_cache._retry_at.clear()
        # Redis still holds the old token: until this process sends the
        # change again, other servers would go on serving old pages.
        assert cache.get(freshness.PREFIX + freshness.PORTAL) == kept
        client.get(reverse("health"))  # any request
        assert cache.get(freshness.PREFIX + freshness.PORTAL) not in (None, kept)
        assert not freshness._unsent

    def test_remembered_lists_are_rebuilt_while_the_cache_is_down(self, stopped_redis):
        builds = []

        def build():
            builds.append(1)
            return len(builds)

        assert freshness.remember(["list"], build, 60) == 1
        assert freshness.remember(["list"], build, 60) == 2
