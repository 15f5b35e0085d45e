"""The four servers under test, each started the same way: loopback only,
one process (unless a scenario asks for more), pinned to core 0 where
`taskset` exists, compression off, uvicorn with `--ws websockets` for every
ASGI app (as docs/operations.md runs the product)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import procs

TARGETS = ("raw", "bare", "tutorial", "hearth")
LABELS = {
    "raw": "limit: raw websockets",
    "bare": "limit: bare ASGI (uvicorn)",
    "tutorial": "peer: Channels tutorial (uvicorn + channels_redis)",
    "hearth": "product: Hearth room (uvicorn + channels_redis + PostgreSQL)",
}

# Redis databases of the bench alone; the test suites use 0-2.
REDIS_HOST = "redis://127.0.0.1:6379"
CACHE_DB, CHANNELS_DB, BROKER_DB, TUTORIAL_DB = 11, 12, 13, 14
BENCH_REDIS_DBS = (CACHE_DB, CHANNELS_DB, BROKER_DB, TUTORIAL_DB)


def configure_redis(base: int) -> None:
    """Move the bench's four Redis databases (so that a smoke test and a
    bench run on one Redis never flush each other's)."""
    global CACHE_DB, CHANNELS_DB, BROKER_DB, TUTORIAL_DB, BENCH_REDIS_DBS
    CACHE_DB, CHANNELS_DB, BROKER_DB, TUTORIAL_DB = base, base + 1, base + 2, base + 3
    BENCH_REDIS_DBS = (CACHE_DB, CHANNELS_DB, BROKER_DB, TUTORIAL_DB)


# Raised for load runs so that the product's chat limits (30 a minute,
# 10 in 10 s per person) measure the fan-out, not the rate limiter.
LOAD_RATE_OVERRIDES = {
    "HEARTH_CHAT_RATE_PER_MINUTE": "1000000",
    "HEARTH_CHAT_BURST": "1000000",
}


@dataclass
class Context:
    """Where the product's data lives for this bench run."""

    database_url: str
    var_dir: Path
    log_dir: Path
    database_kind: str = "postgresql"
    extra_env: dict[str, str] = field(default_factory=dict)

    def product_env(self, port: int) -> dict[str, str]:
        site = f"http://127.0.0.1:{port}"
        env = {
            k: v
            for k, v in os.environ.items()
            if k
            not in (
                "DATABASE_URL",
                "REDIS_URL",
                "CACHE_URL",
                "CHANNELS_URL",
                "CELERY_BROKER_URL",
                "EMAIL_URL",
            )
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=self.database_url,
            REDIS_URL=f"{REDIS_HOST}/{BROKER_DB}",
            CACHE_URL=f"{REDIS_HOST}/{CACHE_DB}",
            CHANNELS_URL=f"{REDIS_HOST}/{CHANNELS_DB}",
            CELERY_BROKER_URL=f"{REDIS_HOST}/{BROKER_DB}",
            HEARTH_VAR_DIR=str(self.var_dir),
            DEBUG="false",
            SECRET_KEY="bench-only-not-secret",
            SECURE_SSL_REDIRECT="false",
            SITE_URL=site,
            TRUSTED_ORIGINS=site,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(procs.ROOT),
            **LOAD_RATE_OVERRIDES,
        )
        env.update(self.extra_env)
        return env

    def manage(self, *args: str, timeout: float = 600) -> str:
        """Run `manage.py` (or `-m module`) against the bench database."""
        command = (
            [procs.PYTHON, *args]
            if args[0] == "-m"
            else [procs.PYTHON, "manage.py", *args]
        )
        done = subprocess.run(
            command,
            cwd=procs.ROOT,
            env=self.product_env(8000),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout


def uvicorn_args(app: str, port: int) -> list[str]:
    return [
        str(procs.BIN / "uvicorn"),
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--ws",
        "websockets",
        "--ws-per-message-deflate",
        "false",
        "--no-access-log",
        "--log-level",
        "warning",
        "--backlog",
        "4096",
    ]


def start_target(
    kind: str, ctx: Context, *, name: str = "", cores: str | None = "0"
) -> procs.Server:
    port = procs.free_port()
    env = dict(os.environ)
    if kind == "raw":
        args = [procs.PYTHON, "-m", "bench.servers.raw_ws", str(port)]
    elif kind == "bare":
        args = [*uvicorn_args("bench.servers.asgi_bare:app", port), "--lifespan", "on"]
    elif kind == "tutorial":
        env.update(
            DJANGO_SETTINGS_MODULE="bench.servers.tutorial",
            BENCH_CHANNELS_URL=f"{REDIS_HOST}/{TUTORIAL_DB}",
        )
        args = uvicorn_args("bench.servers.tutorial:application", port)
    elif kind == "hearth":
        env = ctx.product_env(port)
        args = uvicorn_args("config.asgi:application", port)
    else:
        raise ValueError(kind)
    return procs.start(
        name or kind, args, port=port, log_dir=ctx.log_dir, env=env, cores=cores
    )


def ws_url(kind: str, server: procs.Server, room: str) -> str:
    base = f"ws://127.0.0.1:{server.port}"
    if kind == "hearth":
        return f"{base}/ws/sessions/{room}/"
    if kind == "tutorial":
        return f"{base}/ws/chat/{room}/"
    return f"{base}/room/{room}"


def origin(server: procs.Server) -> str:
    return f"http://127.0.0.1:{server.port}"
