"""`/healthz`: can this process reach everything it depends on?

Each check does a small real round trip (a query, a cache write, a channel
message, a broker connection) and is timed. A failing check reports only the
exception's class name: messages from drivers can carry hosts, URLs and
passwords, and this endpoint needs no login.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from config.celery import app as celery_app

# Seconds; the whole endpoint should answer well inside a load balancer's
# probe timeout even when a dependency is down.
CHANNEL_TIMEOUT = 2.0
BROKER_TIMEOUT = 2.0


class CheckResult(TypedDict, total=False):
    ok: bool
    ms: float
    error: str


class DependencyError(Exception):
    """A dependency answered, but not with what was asked for."""


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        row = cursor.fetchone()
    if row is None or row[0] != 1:
        raise DependencyError


def check_cache() -> None:
    # A unique key: concurrent probes from several workers never collide.
    key = f"healthz:{uuid.uuid4().hex}"
    value = uuid.uuid4().hex
    cache.set(key, value, timeout=30)
    try:
        if cache.get(key) != value:
            raise DependencyError
    finally:
        cache.delete(key)


async def _channel_round_trip() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise DependencyError
    channel = await layer.new_channel(prefix="healthz.")
    nonce = uuid.uuid4().hex
    async with asyncio.timeout(CHANNEL_TIMEOUT):
        await layer.send(channel, {"type": "healthz.ping", "nonce": nonce})
        message = await layer.receive(channel)
    if message.get("nonce") != nonce:
        raise DependencyError


def check_channel_layer() -> None:
    # Under ASGI this sync view runs in a worker thread; async_to_sync hands
    # the coroutine back to the server's event loop, where the layer lives.
    async_to_sync(_channel_round_trip)()


def check_broker() -> None:
    # The connection settings the web process enqueues tasks with, plus read
    # timeouts: a broker that accepts the socket but never answers would
    # otherwise hang the probe (ensure_connection's timeout only spaces retries).
    with celery_app.connection_for_write(
        connect_timeout=BROKER_TIMEOUT,
        transport_options={"socket_timeout": BROKER_TIMEOUT},
    ) as conn:
        conn.ensure_connection(
            max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT
        )


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "broker": check_broker,
}


def run_check(check: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # Any failure is a failed check, never a 500.
        ms = round((time.perf_counter() - started) * 1000, 1)
        return {"ok": False, "ms": ms, "error": type(exc).__name__}
    return {"ok": True, "ms": round((time.perf_counter() - started) * 1000, 1)}


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {name: run_check(check) for name, check in CHECKS.items()}
    healthy = all(result["ok"] for result in checks.values())
    response = JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": checks},
        status=200 if healthy else 503,
    )
    response["Cache-Control"] = "no-store"
    return response
