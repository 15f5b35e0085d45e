"""What the figures were measured on: versions, machine and a fingerprint
that `--compare` checks before putting two runs side by side."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from importlib import metadata
from typing import Any

PACKAGES = (
    "django",
    "channels",
    "channels-redis",
    "redis",
    "uvicorn",
    "websockets",
    "uvloop",
    "httptools",
    "psycopg",
    "daphne",
)


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    cpuinfo = _read("/proc/cpuinfo")
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpuinfo.splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kib = next(
        (
            int(line.split()[1])
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    info = {
        "cpu_model": model,
        "logical_cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "hostname": platform.node(),
    }
    info["fingerprint"] = fingerprint(info)
    return info


def fingerprint(info: dict[str, Any]) -> str:
    """Same CPU model, core count and memory (to the GiB) = same machine
    kind. The kernel and host name are left out: they change between
    sessions on identical machines."""
    key = f"{info['cpu_model']}|{info['logical_cores']}|{round(info['memory_gib'])}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def versions(database_url: str) -> dict[str, Any]:
    found: dict[str, Any] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name if name != "redis" else "redis-py"] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    try:
        import redis

        client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
        server: Any = client.info("server")
        found["redis-server"] = server.get("redis_version")
        client.close()
    except Exception as error:
        found["redis-server"] = f"unreachable ({type(error).__name__})"
    if database_url.startswith("postgres"):
        try:
            import psycopg

            with psycopg.connect(database_url, connect_timeout=5) as conn:
                row = conn.execute("show server_version").fetchone()
                found["postgres"] = row[0] if row else None
        except Exception as error:
            found["postgres"] = f"unreachable ({type(error).__name__})"
    else:
        import sqlite3

        found["sqlite"] = sqlite3.sqlite_version
    try:
        found["taskset"] = (
            subprocess.run(
                ["taskset", "--version"], capture_output=True, text=True, timeout=5
            ).stdout.strip()
            or None
        )
    except OSError:
        found["taskset"] = None
    return found
