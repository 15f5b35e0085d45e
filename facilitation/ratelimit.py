"""Per-person limits kept in the shared cache (Redis in production), so a
person with several sockets on several servers has one budget.

If the cache is unreachable the limits fail open: a limiter outage must
never stop a member's message (or its crisis screening) from going
through."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.core.cache import cache

log = logging.getLogger("hearth.room")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def _hit(key: str, window: int, limit: int, now: float) -> Verdict:
    try:
        return _count(key, window, limit, now)
    except Exception:
        log.warning("rate limiter unavailable; allowing")
        return Verdict(True)


def _count(key: str, window: int, limit: int, now: float) -> Verdict:
    bucket = int(now // window)
    name = f"rl:{key}:{window}:{bucket}"
    cache.add(name, 0, timeout=window + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, timeout=window + 5)
        count = 1
    if count > limit:
        return Verdict(False, max(1, int((bucket + 1) * window - now) + 1))
    return Verdict(True)


def check(
    key: str, *, per_minute: int, burst: int, now: float | None = None
) -> Verdict:
    """At most `burst` in each fixed 10-second window and `per_minute` in each
    fixed minute (fixed windows: across a boundary up to twice the burst can
    pass, which is fine for a courtesy limit and needs one counter each)."""
    now = time.time() if now is None else now
    short = _hit(key, 10, burst, now)
    if not short.allowed:
        return short
    return _hit(key, 60, per_minute, now)


def strike(key: str, *, window: int, now: float | None = None) -> int:
    """Count a breach; returns how many fell in the current window."""
    try:
        return _strike(key, window=window, now=now)
    except Exception:
        log.warning("rate limiter unavailable; not counting a strike")
        return 0


def _strike(key: str, *, window: int, now: float | None = None) -> int:
    now = time.time() if now is None else now
    name = f"strikes:{key}:{int(now // window)}"
    cache.add(name, 0, timeout=window + 5)
    try:
        return int(cache.incr(name))
    except ValueError:
        cache.set(name, 1, timeout=window + 5)
        return 1


def mute(key: str, seconds: int) -> None:
    try:
        cache.set(f"mute:{key}", int(time.time()) + seconds, timeout=seconds)
    except Exception:
        log.warning("rate limiter unavailable; flood mute not recorded")


def muted_until(key: str) -> int | None:
    try:
        until = cache.get(f"mute:{key}")
    except Exception:
        return None
    if until and int(until) > time.time():
        return int(until)
    return None
