"""The eleven scenarios of issue 7. Each returns a JSON-able section:
parameters, per-target results and notes; `report.py` judges the targets."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import httpload, procs, targets
from .profiles import Profile
from .rooms import RoomPlan, RoomRun
from .stats import median_range
from .targets import TARGETS, Context

log = logging.getLogger("bench")
Section = dict[str, Any]


def _guard(kind: str, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one target's part; a failure is recorded, never fatal."""
    t0 = time.monotonic()
    try:
        result = work()
    except Exception as error:
        log.exception("%s failed", kind)
        result = {"error": f"{type(error).__name__}: {str(error)[:2000]}"}
    result["wall_seconds"] = round(time.monotonic() - t0, 1)
    log.info("  %s done in %.1fs", kind, result["wall_seconds"])
    return result


def _key_figures(point: dict[str, Any]) -> dict[str, Any]:
    """What repeats are summarised by."""
    return {
        "cpu_us_per_delivery": point.get("cpu_us_per_delivery"),
        "p99_everyone_us": point["everyone_us"]["p99"],
        "p99_latency_us": point["latency_us"]["p99"],
    }


def _repeat_summary(points: list[dict[str, Any]]) -> dict[str, Any]:
    figures = [_key_figures(p) for p in points]
    return {name: median_range([f[name] for f in figures]) for name in figures[0]}


def _saturation(
    run: RoomRun, rates: tuple[float, ...], seconds: float, first: int
) -> dict[str, Any]:
    """Raise the offered rate until the server cannot keep up: a point is
    kept while every message reaches everyone and p99 stays under 1 s."""
    steps = []
    best = None
    for n, rate in enumerate(rates):
        point = run.point(first + n, rate=rate, duration=seconds, drain=2.0)
        point.pop("latency_us_raw", None)
        steps.append(point)
        healthy = (
            point["lost"] == 0
            and point["everyone_us"]["p99"] is not None
            and point["everyone_us"]["p99"] < 1_000_000
        )
        if healthy:
            best = point
        if not healthy or point["server_cpu_fraction"] > 0.97:
            break
        if point["client_bound"]:
            break
    return {
        "steps": [
            {
                "rate": p["rate"],
                "deliveries_per_second": p["deliveries_per_second"],
                "server_cpu_fraction": p["server_cpu_fraction"],
                "cpu_us_per_delivery": p["cpu_us_per_delivery"],
                "p99_everyone_us": p["everyone_us"]["p99"],
                "lost": p["lost"],
                "client_bound": p["client_bound"],
                "closed": p["closed"],
            }
            for p in steps
        ],
        "max_healthy_deliveries_per_second": (
            best["deliveries_per_second"] if best else None
        ),
        # Deliveries a fully busy core would make at the measured cost.
        "projected_deliveries_per_core_second": (
            round(1e6 / best["cpu_us_per_delivery"])
            if best and best["cpu_us_per_delivery"]
            else None
        ),
        "client_bound": any(p["client_bound"] for p in steps),
    }


# --- scenarios 1, 2 and 4: one room under load ------------------------------
def room_load(
    ctx: Context,
    profile: Profile,
    *,
    size: int,
    rates: tuple[float, ...],
    seconds: float,
    saturation_rates: tuple[float, ...],
    town_hall: bool,
    only: tuple[str, ...] = TARGETS,
    client_processes: int = 1,
) -> tuple[Section, Section]:
    section: Section = {
        "params": {
            "size": size,
            "rates": rates,
            "seconds": seconds,
            "repeats": profile.repeats,
            "client_processes": client_processes,
        },
        "results": {},
    }
    saturation: Section = {
        "params": {"size": size, "rates": saturation_rates},
        "results": {},
    }
    for kind in only:

        def work(kind: str = kind) -> dict[str, Any]:
            tag = f"r{size}-{kind}-{time.monotonic_ns() % 10**9}"
            with RoomRun(
                kind,
                ctx,
                [RoomPlan("room", size)],
                tag=tag,
                client_processes=client_processes,
            ) as run:
                run.measure_idle()
                points: dict[str, Any] = {}
                number = 0
                for _repeat in range(profile.repeats):
                    for rate in rates:
                        extra: dict[str, Any] = {}
                        if town_hall and kind == "hearth":
                            fac_key = run.room_keys[0]
                            extra = {
                                "prompt_every": 5.0,
                                "burst": {
                                    "at": seconds / 2,
                                    "within": 1.0,
                                    "conns": run.fac_members[fac_key][:100],
                                },
                            }
                        point = run.point(
                            number, rate=rate, duration=seconds, extra=extra
                        )
                        number += 1
                        points.setdefault(str(rate), []).append(point)
                        log.info(
                            "  %s %s/s: cpu %.1f us/delivery, p99 everyone %s us, "
                            "lost %s",
                            kind,
                            rate,
                            point["cpu_us_per_delivery"] or -1,
                            point["everyone_us"]["p99"],
                            point["lost"],
                        )
                summary: dict[str, Any] = {}
                for rate_key, runs in points.items():
                    last = dict(runs[-1])
                    last["repeats"] = _repeat_summary(runs)
                    summary[rate_key] = last
                sat = _saturation(
                    run, saturation_rates, profile.s4_step_seconds, number
                )
                return {"setup": run.setup, "points": summary, "saturation": sat}

        result = _guard(kind, work)
        saturation["results"][kind] = result.pop("saturation", {"error": "no run"})
        section["results"][kind] = result
    return section, saturation


# --- scenario 3: many rooms, two workers ------------------------------------------
def many_rooms(ctx: Context, profile: Profile) -> Section:
    rng = random.Random(7)
    sizes = [rng.randint(10, 30) for _ in range(profile.s3_rooms)]
    section: Section = {
        "params": {
            "rooms": len(sizes),
            "members": sum(sizes),
            "sizes": "10-30 (seeded)",
            "rate_per_room": 1,
            "seconds": profile.s3_seconds,
            "server_processes": 2,
        },
        "results": {},
        "notes": [
            "Two server processes on different ports, both pinned to core 0; "
            "each room's members alternate between them, so every message "
            "crosses the channel layer. The raw and bare-ASGI limits keep rooms "
            "in process memory and cannot span two processes: not run."
        ],
    }
    for kind in ("tutorial", "hearth"):

        def work(kind: str = kind) -> dict[str, Any]:
            plans = [RoomPlan(f"m{n}", s) for n, s in enumerate(sizes)]
            with RoomRun(
                kind,
                ctx,
                plans,
                tag=f"many-{kind}-{time.monotonic_ns() % 10**9}",
                servers=2,
                client_processes=1,
            ) as run:
                run.measure_idle()
                point = run.point(0, rate=1, duration=profile.s3_seconds, drain=3)
                point["per_worker_deliveries_per_second"] = round(
                    point["deliveries_per_second"] / 2, 1
                )
                return {"setup": run.setup, "point": point}

        section["results"][kind] = _guard(kind, work)
    return section


# --- scenario 5: idle capacity ----------------------------------------------------
def idle_capacity(ctx: Context, profile: Profile) -> Section:
    section: Section = {
        "params": {
            "sizes": profile.s5_sizes,
            "idle_seconds": profile.s5_idle_seconds,
        },
        "results": {},
        "notes": [
            "One room, one worker. Memory per connection = (worker RSS after "
            "connecting and joining - RSS before) / connections. Hearth clients "
            "send the protocol's presence ping every 25 s (the browser does); "
            "the baselines get none.",
        ],
    }
    for kind in TARGETS:
        by_size: dict[str, Any] = {}
        for size in profile.s5_sizes:

            def work(kind: str = kind, size: int = size) -> dict[str, Any]:
                with RoomRun(
                    kind,
                    ctx,
                    [RoomPlan("idle", size)],
                    tag=f"idle{size}-{kind}-{time.monotonic_ns() % 10**9}",
                    client_processes=2 if size > 5000 else 1,
                    ping_every=25.0 if kind == "hearth" else 0.0,
                ) as run:
                    time.sleep(2)
                    rss_before = run.setup["rss_before"]
                    rss_after = run.rss()
                    cpu0 = run.cpu()
                    time.sleep(profile.s5_idle_seconds)
                    idle_cpu = (run.cpu() - cpu0) / profile.s5_idle_seconds
                    point = run.point(0, rate=1, duration=1, count=1, drain=5)
                    return {
                        "setup": run.setup,
                        "connections": run.setup["connected"],
                        "failed": size - run.setup["connected"],
                        "not_joined": size - run.setup["joined"],
                        "rss_before_bytes": rss_before,
                        "rss_after_bytes": rss_after,
                        "kib_per_connection": round(
                            (rss_after - rss_before) / 1024 / max(1, size), 2
                        ),
                        "idle_cpu_fraction": round(idle_cpu, 4),
                        "broadcast_to_last_us": point["everyone_us"]["max"],
                        "broadcast_lost": point["lost"],
                        "broadcast": point,
                    }

            by_size[str(size)] = _guard(f"{kind}@{size}", work)
        section["results"][kind] = by_size
    return section


# --- scenario 6: reconnect storm -----------------------------------------------
def reconnect_storm(ctx: Context, profile: Profile) -> Section:
    members, in_flight = profile.s6_members, profile.s6_in_flight
    section: Section = {
        "params": {"members": members, "in_flight": in_flight},
        "results": {},
        "notes": [
            "Every client socket is aborted at once (no close frame, as when a "
            "network drops), then all reconnect with at most `in_flight` "
            "handshakes open; Hearth members send `resume` with their last seq "
            "and count as back on `resumed` (or on the snapshot after "
            "`resync_required`). Stale group members = channel-layer group size "
            "(read from Redis) minus open sockets, 5 s after the storm.",
        ],
    }
    for kind in TARGETS:

        def work(kind: str = kind) -> dict[str, Any]:
            with RoomRun(
                kind,
                ctx,
                [RoomPlan("storm", members)],
                tag=f"storm-{kind}-{time.monotonic_ns() % 10**9}",
            ) as run:
                storm = run.storm(in_flight)
                time.sleep(5)
                sizes = run.group_members()
                after = run.point(0, rate=1, duration=1, count=1, drain=5)
                open_now = after["open_connections"]
                stale = None
                if sizes is not None:
                    stale = max(0, sum(sizes.values()) - open_now)
                return {
                    "setup": run.setup,
                    **storm,
                    "group_members_after": sizes,
                    "open_after": open_now,
                    "stale_group_members": stale,
                    "broadcast_after_lost": after["lost"],
                    "broadcast_after_us": after["everyone_us"]["max"],
                }

        section["results"][kind] = _guard(kind, work)
    return section


# --- scenario 7: slow consumer ---------------------------------------------------
def slow_consumer(ctx: Context, profile: Profile) -> Section:
    start, stop = profile.s7_slow
    section: Section = {
        "params": {
            "size": 30,
            "rate": 10,
            "seconds": profile.s7_seconds,
            "stall": [start, stop],
            "slow_receive_buffer": 4096,
        },
        "results": {},
        "notes": [
            "The last member stops reading between the two times; its socket "
            "has a 4 KiB receive buffer so that the stall reaches the server "
            "(loopback buffers would otherwise absorb minutes of chat). Others' "
            "p99 before the stall vs during it; server RSS sampled every 0.5 s.",
        ],
    }
    for kind in TARGETS:

        def work(kind: str = kind) -> dict[str, Any]:
            with RoomRun(
                kind,
                ctx,
                [RoomPlan("slow", 30)],
                tag=f"slow-{kind}-{time.monotonic_ns() % 10**9}",
                slow_member=True,
            ) as run:
                slow_conn = run.conns[-1]["local"]
                point = run.point(
                    0,
                    rate=10,
                    duration=profile.s7_seconds,
                    drain=5,
                    extra={"slow": {"conn": slow_conn, "start": start, "stop": stop}},
                    sample_rss=True,
                )
                before = point["latency_us"]["p99"]
                during = point.get("others_during_slow_us", {}).get("p99")
                rise = (
                    round(100 * (during - before) / before, 1)
                    if before and during
                    else None
                )
                return {
                    "setup": run.setup,
                    "others_p99_outside_stall_us": before,
                    "others_p99_during_stall_us": during,
                    "p99_rise_percent": rise,
                    "rss_start_bytes": point.get("rss_start_bytes"),
                    "rss_peak_bytes": point.get("rss_peak_bytes"),
                    "slow_member": point.get("slow_member"),
                    "slow_member_latency_us": point.get("slow_member_us"),
                    "lost": point["lost"],
                    "point": point,
                }

        section["results"][kind] = _guard(kind, work)
    return section


# --- scenario 8: resume ---------------------------------------------------------
def resume(ctx: Context, profile: Profile) -> Section:
    events = profile.s8_events
    section: Section = {
        "params": {"missed_events": events},
        "results": {},
        "notes": [
            "Hearth only: the baselines have no history to resume from. A "
            "member joins, leaves; another sends the events (chat, acked one by "
            "one); the first reconnects and sends `resume`.",
        ],
    }

    def work() -> dict[str, Any]:
        from .loadclient import Client, PointStats

        out = ctx.manage(
            "-m",
            "bench.hearth_seed",
            "rooms",
            "--sizes",
            "3",
            "--tag",
            f"resume-{time.monotonic_ns() % 10**9}",
        )
        room = json.loads(out.strip().splitlines()[-1])["rooms"][0]
        server = targets.start_target("hearth", ctx, name="hearth-resume")
        try:
            url = targets.ws_url("hearth", server, str(room["meeting_id"]))
            origin = targets.origin(server)
            return asyncio.run(
                _resume_flow(
                    Client,
                    PointStats,
                    url,
                    origin,
                    room,
                    events,
                )
            )
        finally:
            procs.stop(server)

    section["results"]["hearth"] = _guard("hearth", work)
    return section


async def _resume_flow(
    client_cls: Any,
    stats_cls: Any,
    url: str,
    origin: str,
    room: dict[str, Any],
    events: int,
) -> dict[str, Any]:
    key = str(room["meeting_id"])

    def spec(cookie: str, role: str, index: int) -> dict[str, Any]:
        return {
            "mode": "hearth",
            "origin": origin,
            "conns": [
                {
                    "index": index,
                    "url": url,
                    "room": key,
                    "cookie": cookie,
                    "role": role,
                }
            ],
        }

    sender = client_cls(spec(room["facilitator"], "facilitator", 0))
    reader = client_cls(spec(room["members"][0], "member", 1))
    try:
        await sender.connect_all()
        await sender.open_room()
        await reader.connect_all()
        await asyncio.sleep(1.0)
        await reader.join_all()
        conn = reader.conns[0]
        after = conn.last_seq
        await reader.close_all()
        t_send = time.monotonic()
        sender.stats = stats_cls(0)
        fac = sender.conns[0]
        # Twenty in flight at a time: acked, so none is dropped on the way in.
        for first in range(0, events, 20):
            await asyncio.gather(
                *(
                    sender.request(
                        fac,
                        {"type": "chat.send", "text": f"~B|0|{key}|0|{n + 1}|0|"},
                        timeout=120,
                    )
                    for n in range(first, min(events, first + 20))
                )
            )
        send_seconds = time.monotonic() - t_send
        reader.stats = stats_cls(0)
        conn.seen.clear()
        conn.high.clear()
        t0 = time.monotonic()
        await reader._open(conn)
        conn.resumed = asyncio.get_running_loop().create_future()
        conn.snapshot = asyncio.get_running_loop().create_future()
        conn.last_seq = after
        await conn.ws.send(json.dumps({"type": "resume", "after_seq": after}))
        done, _ = await asyncio.wait(
            [conn.resumed, conn.snapshot], timeout=60, return_when="FIRST_COMPLETED"
        )
        elapsed = time.monotonic() - t0
        got = len(conn.seen)
        return {
            "missed_chat_events": events,
            "after_seq": after,
            "resumed": bool(done) and conn.resumed.done(),
            "resync_required": conn.snapshot.done(),
            "seconds_until_resumed": round(elapsed, 4),
            "chat_events_received": got,
            "in_order": reader.stats.out_of_order == 0 and reader.stats.event_gaps == 0,
            "doubled": reader.stats.doubled + reader.stats.event_doubled,
            "event_gaps": reader.stats.event_gaps,
            "send_seconds": round(send_seconds, 2),
        }
    finally:
        await reader.close_all()
        await sender.close_all()


# --- scenario 9: pages ----------------------------------------------------------
def pages(ctx: Context, profile: Profile) -> Section:
    section: Section = {
        "params": {
            "groups": profile.s9_groups,
            "prompts": profile.s9_prompts,
            "seconds_per_page": profile.s9_seconds,
            "concurrency": 4,
        },
        "results": {},
        "notes": [
            "Hearth only. A logged-in facilitator's cookie; keep-alive HTTP/1.1 "
            "over 4 connections. Queries counted in-process with "
            "CaptureQueriesContext, first at 10 groups / 100 prompts, then at "
            "the full size: equal counts = constant.",
        ],
    }

    def work() -> dict[str, Any]:
        def seed(groups: int, prompts: int, tag: str) -> dict[str, Any]:
            out = ctx.manage(
                "-m",
                "bench.hearth_seed",
                "pages",
                "--groups",
                str(groups),
                "--prompts",
                str(prompts),
                "--tag",
                tag,
            )
            return dict(json.loads(out.strip().splitlines()[-1]))

        def count(seeded: dict[str, Any]) -> dict[str, Any]:
            out = ctx.manage(
                "-m",
                "bench.hearth_seed",
                "queries",
                "--cookie",
                seeded["cookie"],
                "--urls",
                json.dumps(seeded["pages"]),
            )
            return dict(json.loads(out.strip().splitlines()[-1]))

        small = seed(10, 100, "small")
        small_counts = count(small)
        big = seed(profile.s9_groups - 10, profile.s9_prompts - 100, "big")
        big_counts = count(big)
        server = targets.start_target("hearth", ctx, name="hearth-pages")
        try:
            load = asyncio.run(
                httpload.run_pages(
                    server.port,
                    big["cookie"],
                    big["pages"],
                    seconds=profile.s9_seconds,
                    concurrency=4,
                    cpu=server.cpu,
                )
            )
        finally:
            procs.stop(server)
        for name in load:
            load[name]["queries_small"] = small_counts.get(name, {}).get("queries")
            load[name]["queries_full"] = big_counts.get(name, {}).get("queries")
            load[name]["status_for_counting"] = big_counts.get(name, {}).get("status")
        return {"pages": load}

    section["results"]["hearth"] = _guard("hearth", work)
    return section


# --- scenario 10: reminders (another engineer's script) --------------------------
def reminders(ctx: Context, profile: Profile) -> Section:
    script = procs.ROOT / "bench" / "reminders.py"
    section: Section = {"params": {"script": "bench/reminders.py"}, "results": {}}
    if not script.exists():
        section["skipped"] = "bench/reminders.py is not there (yet): not run."
        return section

    def work() -> dict[str, Any]:
        env = ctx.product_env(8000)
        done = subprocess.run(
            [procs.PYTHON, str(script), *profile.s10_args],
            cwd=procs.ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        return {
            "returncode": done.returncode,
            "parsed": parse_reminders(done.stdout),
            "stdout_tail": done.stdout[-4000:],
            "stderr_tail": done.stderr[-2000:],
        }

    section["results"]["hearth"] = _guard("reminders", work)
    return section


PHASE = re.compile(
    r"^(?P<name>.+?)\s+(?P<seconds>[\d.]+) s\s+(?P<queries>\d+) queries$"
)
SENT = re.compile(r"recorded (\d+), sent (\d+), emails (\d+)")


def parse_reminders(stdout: str) -> dict[str, Any] | None:
    """Read bench/reminders.py's output: a JSON line if it prints one, else
    its phase lines ("name  12.34 s  567 queries") and the totals line.
    `seconds` adds the phases that do the work (not the no-op re-sweep)."""
    lines = stdout.strip().splitlines()
    for line in reversed(lines):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict):
            return parsed
    phases: list[dict[str, Any]] = []
    for line in lines:
        match = PHASE.match(line.strip())
        if match:
            phases.append(
                {
                    "name": match["name"].strip(),
                    "seconds": float(match["seconds"]),
                    "queries": int(match["queries"]),
                }
            )
    if not phases:
        return None
    result: dict[str, Any] = {
        "phases": phases,
        "seconds": round(
            sum(p["seconds"] for p in phases if "no-op" not in p["name"]), 2
        ),
        "ok": "OK" in lines,
    }
    for line in lines:
        sent = SENT.search(line)
        if sent:
            result["recorded"], result["sent"], result["emails"] = map(
                int, sent.groups()
            )
    return result


# --- scenario 11: screening ---------------------------------------------------------
def screening(ctx: Context, profile: Profile) -> Section:
    section: Section = {"params": {"rounds": profile.s11_rounds}, "results": {}}
    probe = subprocess.run(
        [procs.PYTHON, "-m", "bench.screening_bench", "--probe"],
        cwd=procs.ROOT,
        env=ctx.product_env(8000),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.returncode != 0:
        section["skipped"] = (
            "safety.screening.screen does not exist (yet): not run. "
            + probe.stderr.strip().splitlines()[-1][:300]
            if probe.stderr.strip()
            else "safety.screening.screen does not exist (yet): not run."
        )
        return section

    def work() -> dict[str, Any]:
        command = [procs.PYTHON, "-m", "bench.screening_bench"]
        command += ["--rounds", str(profile.s11_rounds)]
        if procs.taskset_available():
            command = ["taskset", "-c", "0", *command]
        done = subprocess.run(
            command,
            cwd=procs.ROOT,
            env=ctx.product_env(8000),
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))

    section["results"]["hearth"] = _guard("screening", work)
    return section


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, default=str))
