"""A small keep-alive HTTP/1.1 GET load generator on asyncio streams (no
third-party client: the harness measures the server, not a library)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from .clients import summarize


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _worker(
    port: int, path: str, cookie: str, until: float, latencies: list[int]
) -> dict[str, int]:
    statuses: dict[str, int] = {}
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Cookie: sessionid={cookie}\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    try:
        while time.monotonic() < until:
            t0 = time.perf_counter_ns()
            writer.write(request)
            status = await _read_response(reader)
            latencies.append((time.perf_counter_ns() - t0) // 1000)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
    finally:
        writer.close()
    return statuses


async def run_pages(
    port: int,
    cookie: str,
    pages: dict[str, str],
    *,
    seconds: float,
    concurrency: int,
    cpu: Callable[[], Any],
) -> dict[str, Any]:
    """Each page in turn: `concurrency` connections for `seconds`."""
    results: dict[str, Any] = {}
    for name, path in pages.items():
        # One warm-up request: the first render compiles templates.
        await _worker(port, path, cookie, time.monotonic() + 0.3, [])
        latencies: list[int] = []
        cpu0 = cpu().cpu
        t0 = time.monotonic()
        statuses = await asyncio.gather(
            *(
                _worker(port, path, cookie, t0 + seconds, latencies)
                for _ in range(concurrency)
            )
        )
        wall = time.monotonic() - t0
        merged: dict[str, int] = {}
        for part in statuses:
            for status, n in part.items():
                merged[status] = merged.get(status, 0) + n
        results[name] = {
            "path": path,
            "requests": len(latencies),
            "requests_per_second": round(len(latencies) / wall, 1),
            "latency_us": summarize(latencies),
            "statuses": merged,
            "server_cpu_ms_per_request": round(
                (cpu().cpu - cpu0) * 1000 / max(1, len(latencies)), 2
            ),
        }
    return results
