"""Per-person limits kept in the shared cache (Redis in production), so a
person with several sockets on several servers has one budget.

If the cache is unreachable the limits fail open: a limiter outage must
never stop a member's message (or its crisis screening) from going
through."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger("hearth.room")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0
    # With `check(..., muted_key=...)`: the flood mute's end, if one is on.
    muted_until: int | None = None


def _count_and_read(
    counters: list[tuple[str, int]], reads: list[str]
) -> tuple[list[int], list[object]]:
    """Count one hit on each (name, window) counter and read `reads`, in one
    round trip when the cache is Redis (a pipeline), else call by call."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        inner: Any = backend._cache  # Django's private client
        client = inner.get_client(write=True)
        pipe = client.pipeline(transaction=False)
        for name, window in counters:
            key = backend.make_and_validate_key(name)
            pipe.incr(key)
            pipe.expire(key, window + 5)
        for name in reads:
            pipe.get(backend.make_and_validate_key(name))
        out = pipe.execute()
        loads = inner._serializer.loads
        return (
            [int(n) for n in out[0 : 2 * len(counters) : 2]],
            [None if v is None else loads(v) for v in out[2 * len(counters) :]],
        )
    counts = []
    for name, window in counters:
        cache.add(name, 0, timeout=window + 5)
        try:
            counts.append(int(cache.incr(name)))
        except ValueError:  # expired between add and incr
            cache.set(name, 1, timeout=window + 5)
            counts.append(1)
    return counts, [cache.get(name) for name in reads]


def _muted(value: object, now: float) -> int | None:
    if isinstance(value, int) and value > now:
        return value
    return None


def check(
    key: str,
    *,
    per_minute: int,
    burst: int,
    now: float | None = None,
    muted_key: str = "",
) -> Verdict:
    """At most `burst` in each fixed 10-second window and `per_minute` in each
    fixed minute (fixed windows: across a boundary up to twice the burst can
    pass, which is fine for a courtesy limit and needs one counter each).
    Every attempt counts, refused ones too. With `muted_key`, a flood mute
    set by `mute()` is read in the same round trip and refuses first.

    If the cache is unreachable the limit fails open."""
    now = time.time() if now is None else now
    windows = ((10, burst), (60, per_minute))
    counters = [(f"rl:{key}:{w}:{int(now // w)}", w) for w, _ in windows]
    try:
        counts, values = _count_and_read(
            counters, [f"mute:{muted_key}"] if muted_key else []
        )
    except Exception:
        log.warning("rate limiter unavailable; allowing")
        return Verdict(True)
    if values and (until := _muted(values[0], now)):
        return Verdict(False, max(1, until - int(now)), muted_until=until)
    for (window, limit), count in zip(windows, counts, strict=True):
        if count > limit:
            bucket = int(now // window)
            return Verdict(False, max(1, int((bucket + 1) * window - now) + 1))
    return Verdict(True)


def strike(key: str, *, window: int, now: float | None = None) -> int:
    """Count a breach; returns how many fell in the current window."""
    now = time.time() if now is None else now
    try:
        counts, _ = _count_and_read(
            [(f"strikes:{key}:{int(now // window)}", window)], []
        )
    except Exception:
        log.warning("rate limiter unavailable; not counting a strike")
        return 0
    return counts[0]


def mute(key: str, seconds: int) -> None:
    try:
        cache.set(f"mute:{key}", int(time.time()) + seconds, timeout=seconds)
    except Exception:
        log.warning("rate limiter unavailable; flood mute not recorded")


def muted_until(key: str) -> int | None:
    try:
        return _muted(cache.get(f"mute:{key}"), time.time())
    except Exception:
        return None
