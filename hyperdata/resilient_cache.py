"""The Django cache on Redis, kept going while Redis is down: a read misses, a write is dropped, `add` succeeds
(a lock that cannot be taken does not stop the work: every task tolerates running twice). The cache only ever
holds what can be computed again, so a user's write or page never fails because Redis did not answer; the
outage is logged once per minute per process."""
from __future__ import annotations

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
LOG_EVERY_SECONDS = 60
_last_logged = [0.0]


def _when_down(answer):
    """Call the method; when Redis does not answer, return answer(*args) instead."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as exc:
                if time.monotonic() - _last_logged[0] > LOG_EVERY_SECONDS:
                    _last_logged[0] = time.monotonic()
                    logger.warning("the cache (Redis) did not answer, going on without it: %s", exc)
                return answer(*args, **kwargs)

        return wrapper

    return decorate


class ResilientRedisCacheClient(RedisCacheClient):
    add = _when_down(lambda *a, **k: True)(RedisCacheClient.add)
    get = _when_down(lambda key, default, *a, **k: default)(RedisCacheClient.get)
    set = _when_down(lambda *a, **k: None)(RedisCacheClient.set)
    touch = _when_down(lambda *a, **k: False)(RedisCacheClient.touch)
    delete = _when_down(lambda *a, **k: False)(RedisCacheClient.delete)
    get_many = _when_down(lambda *a, **k: {})(RedisCacheClient.get_many)
    has_key = _when_down(lambda *a, **k: False)(RedisCacheClient.has_key)
    set_many = _when_down(lambda *a, **k: [])(RedisCacheClient.set_many)
    delete_many = _when_down(lambda *a, **k: None)(RedisCacheClient.delete_many)


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ResilientRedisCacheClient
