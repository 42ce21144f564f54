"""The cache is an optimisation, never a dependency: while its Redis is down or hung, every page
is computed as if the cache were empty (issue 13).

`OptionalRedisCache` is Django's own Redis backend whose operations, when Redis fails (connection
refused or reset, or a connect or read timeout: redis-py's `RedisError`), answer as an empty cache
would. Chosen over django-redis's IGNORE_EXCEPTIONS: no second Redis backend to install and keep
in step, and it adds what that option lacks: after a failure the process leaves Redis alone for
REDIS_RETRY_AFTER_SECONDS, so a hung Redis costs one read timeout per period instead of one per
cache operation, and the failure is logged once per period, not once per operation. Settings wrap
a Redis CACHE_URL in it (`sangkien.settings.redis_cache_config`), with connect and read timeouts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

_MISSING = object()

# When each server (a LOCATION) may be tried again, for the whole process: Django gives every
# thread its own backend instance, and they should not each wait out a hung Redis.
_retry_at: dict[str, float] = {}


class OptionalRedisCache(RedisCache):
    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        # Django's own parsed LOCATION list, private and so not in django-stubs.
        self._server_key = " ".join(self._servers)  # type: ignore[attr-defined]

    def _call(self, fallback: Any, operation: Callable[..., Any], *args: Any) -> Any:
        """`operation(*args)`, or `fallback` while Redis is failing."""
        retry_at = _retry_at.get(self._server_key)
        if retry_at is not None and time.monotonic() < retry_at:
            return fallback
        try:
            result = operation(*args)
        except RedisError as error:
            pause = settings.REDIS_RETRY_AFTER_SECONDS
            _retry_at[self._server_key] = time.monotonic() + pause
            logger.warning(
                "The cache (Redis) failed: %s: %s. Pages are computed without it; trying it again in %s s.",
                type(error).__name__,
                error,
                pause,
            )
            return fallback
        if retry_at is not None:
            _retry_at.pop(self._server_key, None)
            logger.info("The cache (Redis) answers again.")
        return result

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        return self._call(default, super().get, key, default, version)

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        return self._call({}, super().get_many, keys, version)

    def has_key(self, key: str, version: int | None = None) -> bool:
        return self._call(False, super().has_key, key, version)

    def add(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call(False, super().add, key, value, timeout, version)

    def set(self, key: str, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        return self._call(None, super().set, key, value, timeout, version)

    def set_many(
        self, data: dict[str, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[str]:
        return self._call(list(data), super().set_many, data, timeout, version)  # the keys not stored

    def touch(self, key: str, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call(False, super().touch, key, timeout, version)

    def delete(self, key: str, version: int | None = None) -> bool:
        return self._call(False, super().delete, key, version)

    def delete_many(self, keys: Iterable[str], version: int | None = None) -> None:
        return self._call(None, super().delete_many, keys, version)

    def clear(self) -> None:
        return self._call(None, super().clear)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        """As on an empty cache, a counter that cannot be read is missing (decr goes through here)."""
        value = self._call(_MISSING, super().incr, key, delta, version)
        if value is _MISSING:
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")
        return value
