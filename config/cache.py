"""Django's Redis cache, with one client (and connection pool) per server
for the whole process.

Django's backend builds a new `redis.Redis` object for every cache call
(with redis-py 7 that alone costs about 150 µs of CPU), and a backend
instance, with its own connection pool, per thread or async context. Under
ASGI every `sync_to_async` call can run in a fresh context, so each call
opened a new TCP connection to Redis. A client is thread-safe and only
wraps its pool, so one per server is enough.
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoClient

_clients: dict[tuple[Any, ...], Any] = {}
_lock = threading.Lock()


class RedisCacheClient(DjangoClient):
    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        base: Any = self  # Django's private attributes are not in its stubs
        index = base._get_connection_pool_index(write)
        name = (base._servers[index], repr(sorted(base._pool_options.items())))
        client = _clients.get(name)
        if client is None:
            with _lock:
                client = _clients.get(name)
                if client is None:
                    pool = base._get_connection_pool(write)
                    client = _clients[name] = base._client(connection_pool=pool)
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
