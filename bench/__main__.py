"""`python -m bench [--quick | --full] [--only s1,s5] [--compare OLD.json]`

Prepares a bench database (PostgreSQL when reachable, else SQLite) and the
bench's own Redis databases, runs the scenarios, and writes
bench/results/latest.json, latest.md and latest-latency.svg. Every server
it starts is stopped by pid at the end, on failure too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from . import machine, procs, report, scenarios, targets
from .profiles import FULL, QUICK, SMOKE, Profile
from .targets import Context

log = logging.getLogger("bench")
RESULTS = procs.ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgres://postgres:postgres@127.0.0.1:5432/postgres"
)
ALL = ("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11")


def _postgres(name: str) -> str | None:
    """A fresh bench database on the local PostgreSQL, or None."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            # A busy server can keep a DROP waiting: bounded, never hanging.
            conn.execute("SET statement_timeout = '60s'")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as error:
        log.warning("PostgreSQL unavailable (%s): using SQLite", error)
        return None
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres(name: str) -> None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SET statement_timeout = '60s'")
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception as error:
        log.warning("could not drop %s: %s", name, error)


def _redis_ready() -> None:
    import redis

    for db in targets.BENCH_REDIS_DBS:
        client = redis.Redis.from_url(f"{targets.REDIS_HOST}/{db}", socket_timeout=5)
        try:
            client.flushdb()
        finally:
            client.close()


def prepare(args: argparse.Namespace, work: Path) -> Context:
    var_dir = work / "var"
    log_dir = work / "logs"
    var_dir.mkdir(parents=True, exist_ok=True)
    log_dir.mkdir(parents=True, exist_ok=True)
    _redis_ready()
    url = None if args.database == "sqlite" else _postgres(args.db_name)
    if url is None:
        if args.database == "postgres":
            raise SystemExit("PostgreSQL was asked for and is not reachable.")
        url = f"sqlite:///{var_dir / 'bench.sqlite3'}"
    ctx = Context(
        database_url=url,
        var_dir=var_dir,
        log_dir=log_dir,
        database_kind="postgresql" if url.startswith("postgres") else "sqlite",
    )
    t0 = time.monotonic()
    ctx.manage("migrate", "--noinput", "-v0")
    log.info(
        "bench database migrated (%s) in %.1fs",
        ctx.database_kind,
        time.monotonic() - t0,
    )
    return ctx


def run(args: argparse.Namespace) -> dict[str, Any]:
    profile: Profile = {"quick": QUICK, "full": FULL, "smoke": SMOKE}[args.profile]
    only = tuple(args.only.split(",")) if args.only else ALL
    kinds = tuple(args.targets.split(",")) if args.targets else targets.TARGETS
    work = Path(args.work)
    started = dt.datetime.now(dt.UTC)
    t0 = time.monotonic()
    nofile = procs.raise_nofile()
    ctx = prepare(args, work)
    data: dict[str, Any] = {
        "meta": {
            "profile": profile.name,
            "parameters": profile.as_dict(),
            "scenarios_run": only,
            "targets_run": kinds,
            "started": started.isoformat(timespec="seconds"),
            "finished": None,
            "machine": machine.machine(),
            "versions": machine.versions(ctx.database_url),
            "database": ctx.database_kind,
            "redis_dbs": list(targets.BENCH_REDIS_DBS),
            "overrides": targets.LOAD_RATE_OVERRIDES,
            "pinning": (
                "servers under test on core 0, load clients on core 1 (taskset); "
                "Redis and PostgreSQL unpinned"
                if procs.taskset_available()
                else "no taskset: nothing pinned"
            ),
            "pinned": procs.taskset_available(),
            "nofile_limit": nofile,
            "notes": [*profile.notes],
        },
        "scenarios": {},
    }
    out_dir = Path(args.out)

    def save() -> None:
        data["meta"]["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        data["meta"]["wall_seconds"] = round(time.monotonic() - t0, 1)
        report.write(data, out_dir)

    sc = data["scenarios"]
    try:
        if "s1" in only or "s4" in only:
            log.info("scenario 1 (+4 at 30): room of 30")
            sc["s1"], sat30 = scenarios.room_load(
                ctx,
                profile,
                size=3 if profile.name == "smoke" else 30,
                rates=profile.s1_rates,
                seconds=profile.point_seconds,
                saturation_rates=(
                    profile.s4_rates_30
                    if "s4" in only and profile.name != "smoke"
                    else ()
                ),
                town_hall=False,
                only=kinds,
            )
            sc.setdefault("s4", {"params": {}})["30"] = sat30
            save()
        if "s2" in only or ("s4" in only and profile.name != "smoke"):
            log.info("scenario 2 (+4 at %s): town hall", profile.s2_size)
            sc["s2"], sat500 = scenarios.room_load(
                ctx,
                profile,
                size=profile.s2_size,
                rates=profile.s2_rates,
                seconds=profile.s2_seconds,
                saturation_rates=profile.s4_rates_500 if "s4" in only else (),
                town_hall=True,
                only=kinds,
            )
            sc.setdefault("s4", {"params": {}})["500"] = sat500
            sc["s4"]["params"] = {
                "step_seconds": profile.s4_step_seconds,
                "rates_30": profile.s4_rates_30,
                "rates_500": profile.s4_rates_500,
                "rule": "a step is healthy when nothing is lost and p99 until "
                "everyone < 1 s; stops at the first unhealthy step, at 97% server "
                "CPU or when the client is the bottleneck",
            }
            save()
        steps = (
            ("s3", scenarios.many_rooms),
            ("s5", scenarios.idle_capacity),
            ("s6", scenarios.reconnect_storm),
            ("s7", scenarios.slow_consumer),
            ("s8", scenarios.resume),
            ("s9", scenarios.pages),
            ("s10", scenarios.reminders),
            ("s11", scenarios.screening),
        )
        for key, function in steps:
            if key not in only:
                continue
            if key == "s9":
                ctx.manage("collectstatic", "--noinput", "-v0")
            log.info("scenario %s", key[1:])
            sc[key] = function(ctx, profile)
            save()
    finally:
        procs.stop_all()
        save()
        if ctx.database_kind == "postgresql" and args.drop_db:
            _drop_postgres(args.db_name)
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--quick", dest="profile", action="store_const", const="quick")
    group.add_argument("--full", dest="profile", action="store_const", const="full")
    group.add_argument("--smoke", dest="profile", action="store_const", const="smoke")
    parser.set_defaults(profile="quick")
    parser.add_argument("--only", help="comma-separated scenarios, e.g. s1,s5")
    parser.add_argument("--targets", help="comma-separated: raw,bare,tutorial,hearth")
    parser.add_argument("--compare", metavar="OLD.json", help="compare with a run")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--work", default=str(procs.ROOT / "var" / "bench"))
    parser.add_argument(
        "--database", choices=("auto", "postgres", "sqlite"), default="auto"
    )
    parser.add_argument("--db-name", default="hearth_bench")
    parser.add_argument("--redis-db-base", type=int, default=11)
    parser.add_argument(
        "--drop-db",
        action="store_true",
        help="drop the bench database at the end (it is always recreated at the start)",
    )
    args = parser.parse_args(argv)
    # SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C: the finally blocks
    # and the exit hook stop every server by pid.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S"
    )
    targets.configure_redis(args.redis_db_base)
    if args.compare:
        old = json.loads(Path(args.compare).read_text())
        latest = Path(args.out) / "latest.json"
        if not latest.exists():
            # Check the machine before spending minutes on a run.
            here = machine.machine()["fingerprint"]
            theirs = old.get("meta", {}).get("machine", {}).get("fingerprint")
            if here != theirs:
                sys.stderr.write(
                    f"refusing to compare: {args.compare} comes from another "
                    f"machine ({theirs} vs {here})\n"
                )
                return 2
    if not _redis_up():
        sys.stderr.write("Redis is needed at 127.0.0.1:6379 (the product runs on it)\n")
        return 2
    data = run(args)
    sys.stdout.write(f"wrote {Path(args.out) / 'latest.md'}\n")
    failed = [t for t in data["targets"] if t["status"] == "miss"]
    sys.stdout.write(
        f"targets: {sum(t['status'] == 'pass' for t in data['targets'])} pass, "
        f"{len(failed)} miss, "
        f"{sum(t['status'] == 'not run' for t in data['targets'])} not run\n"
    )
    if args.compare:
        try:
            sys.stdout.write(report.compare(old, data) + "\n")
        except ValueError as error:
            sys.stderr.write(f"{error}\n")
            return 2
    return 0


def _redis_up() -> bool:
    import redis

    client = redis.Redis.from_url(f"{targets.REDIS_HOST}/0", socket_timeout=3)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
