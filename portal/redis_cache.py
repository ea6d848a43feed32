"""Django's Redis cache, made to behave as an empty cache while Redis is away.

Everything the portal keeps in Redis can be rebuilt: pages and lists from the
database, freshness tokens by making new ones (which outdates everything
cached under the old), and sessions from the database (``cached_db``). So a
Redis that is down, restarting or hung should slow the portal down, not stop
it: here a read that fails is a miss and a write that fails is dropped and
logged. Django's own ``RedisCache`` raises instead, which gave everyone the
error page and signed them out.

After a failure the cache is not tried again for ``RETRY_SECONDS``, so a hung
Redis costs one socket timeout (``DJANGO_REDIS_TIMEOUT``) per process, not one
per cache call on every page.

``set`` answers False when Redis did not take the value: ``portal.freshness``
needs to know that an outdating did not reach the other servers.
https://docs.djangoproject.com/en/5.2/topics/cache/#redis
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
# redis-py turns socket errors into its own ConnectionError and TimeoutError;
# OSError covers a failure while a connection is being set up.
UNAVAILABLE = (RedisError, OSError)

# Per location and shared by every thread of the process: when to try again.
_retry_at: dict[str, float] = {}
_lock = threading.Lock()


class _SharedClients(RedisCacheClient):
    """Django's Redis cache client, keeping one ``redis.Redis`` per connection
    pool instead of making a new one for every call. Each new one builds its
    table of reply handlers (about 170 entries), which cost more than the
    round trip on a page with several cache calls. A ``redis.Redis`` may be
    shared: each command takes a connection from the pool and gives it back.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _SharedClients
        self._location = ",".join(self._servers)

    @property
    def available(self) -> bool:
        """False while this process is waiting to try Redis again."""
        return time.monotonic() >= _retry_at.get(self._location, 0.0)

    def _call(self, fallback, method, *args, **kwargs):
        if not self.available:
            return fallback
        try:
            result = method(*args, **kwargs)
        except UNAVAILABLE:
            with _lock:
                first = self._location not in _retry_at
                _retry_at[self._location] = time.monotonic() + RETRY_SECONDS
            # Once per outage in the log, not once per call.
            if first:
                logger.warning(
                    "Cache unreachable: serving without it, retrying every %s s",
                    RETRY_SECONDS,
                    exc_info=True,
                )
            return fallback
        if self._location in _retry_at:
            with _lock:
                if _retry_at.pop(self._location, None) is not None:
                    logger.warning("Cache reachable again")
        return result

    def get(self, key, default=None, version=None):
        return self._call(default, super().get, key, default, version)

    def get_many(self, keys, version=None):
        return self._call({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._call(False, super().has_key, key, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().add, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        def stored():
            super(ResilientRedisCache, self).set(key, value, timeout, version)
            return True

        return self._call(False, stored)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(list(data), super().set_many, data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._call(False, super().delete, key, version)

    def delete_many(self, keys, version=None):
        return self._call(None, super().delete_many, keys, version)

    def clear(self):
        return self._call(False, super().clear)
