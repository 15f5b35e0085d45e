"""The room's rate limits, on the process-local cache and on real Redis
(where counting and the mute read share one pipelined round trip)."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
from django.core.cache import caches

from facilitation import ratelimit

REDIS = os.environ.get("REDIS_URL", "")

BACKENDS = [
    pytest.param(
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, id="locmem"
    ),
    pytest.param(
        {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS or "redis://x/0"},
        id="redis",
        marks=pytest.mark.redis,
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, settings: Any) -> str:
    settings.CACHES = {"default": {**request.param, "KEY_PREFIX": "rl-test"}}
    # Keys of their own: other test processes share the Redis server.
    return uuid.uuid4().hex


NOW = 6_000_000.0  # the start of a minute (and of a 10-second window)


def test_the_burst_is_allowed_and_the_next_refused_until_the_window_ends(
    backend: str,
) -> None:
    key = f"chat:{backend}"
    for _ in range(3):
        assert ratelimit.check(key, per_minute=100, burst=3, now=NOW).allowed
    refused = ratelimit.check(key, per_minute=100, burst=3, now=NOW + 4)
    assert not refused.allowed
    assert refused.retry_after == 7  # 6 s left of the window, rounded up
    assert ratelimit.check(key, per_minute=100, burst=3, now=NOW + 10).allowed


def test_the_minute_limit_holds_across_short_windows(backend: str) -> None:
    key = f"chat:{backend}"
    verdicts = [
        ratelimit.check(key, per_minute=4, burst=3, now=NOW + 10 * (i // 2))
        for i in range(5)
    ]
    assert [v.allowed for v in verdicts] == [True, True, True, True, False]
    assert verdicts[-1].retry_after == 41


def test_a_flood_mute_is_read_with_the_count(backend: str) -> None:
    key = f"chat:{backend}"
    assert ratelimit.check(key, per_minute=9, burst=9, muted_key=backend).allowed
    ratelimit.mute(backend, 300)
    verdict = ratelimit.check(key, per_minute=9, burst=9, muted_key=backend)
    assert not verdict.allowed
    assert verdict.muted_until is not None
    assert ratelimit.muted_until(backend) == verdict.muted_until
    assert 295 <= verdict.retry_after <= 301
    # Without asking about the mute, only the counts decide.
    assert ratelimit.check(f"other:{backend}", per_minute=9, burst=9).allowed


def test_a_stored_mute_that_has_run_out_does_not_refuse(backend: str) -> None:
    caches["default"].set(f"mute:{backend}", 1, timeout=60)  # long past
    verdict = ratelimit.check(
        f"chat:{backend}", per_minute=9, burst=9, muted_key=backend
    )
    assert verdict.allowed and verdict.muted_until is None


def test_the_limiter_fails_open_when_redis_is_unreachable(settings: Any) -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    verdict = ratelimit.check("chat:down", per_minute=1, burst=1, muted_key="x")
    assert verdict.allowed
    assert ratelimit.muted_until("x") is None
