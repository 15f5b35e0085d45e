"""Rooms under load: the shared machinery of the fan-out scenarios.

`RoomRun` starts a target (or two processes of it), seeds Hearth rooms when
the target is the product, opens every connection, joins, and then runs
load points one by one, measuring the server's CPU and memory around each.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from . import procs, targets
from .clients import ClientGroup, merge_point
from .targets import Context


@dataclass
class RoomPlan:
    key: str  # a name for the baselines; Hearth rooms get a meeting id
    size: int


@dataclass
class RoomRun:
    kind: str
    ctx: Context
    rooms: list[RoomPlan]
    tag: str
    servers: int = 1
    client_processes: int = 1
    ping_every: float = 0.0
    slow_member: bool = False  # the last member of room 0 reads slowly
    # Handshakes in flight while setting up. The product serialises each
    # connect's database work on one thread; with 300 at once every
    # handshake outlives uvicorn's 10 s opening timeout and fails (see the
    # report), so setup goes 25 at a time for every target alike.
    connect_concurrency: int = 25
    started: list[procs.Server] = field(default_factory=list)
    group: ClientGroup | None = None
    receivers: dict[str, int] = field(default_factory=dict)
    room_keys: list[str] = field(default_factory=list)
    senders: dict[str, list[int]] = field(default_factory=dict)
    setup: dict[str, Any] = field(default_factory=dict)
    conns: list[dict[str, Any]] = field(default_factory=list)
    home: dict[str, int] = field(default_factory=dict)
    fac_process: dict[str, int] = field(default_factory=dict)
    fac_members: dict[str, list[int]] = field(default_factory=dict)
    idle_cpu_rate: float = 0.0

    def __enter__(self) -> RoomRun:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.group is not None:
            with contextlib.suppress(Exception):
                self.group.stop()
            self.group = None
        for server in self.started:
            procs.stop(server)
        self.started.clear()

    # --- setup ------------------------------------------------------------
    def _start(self) -> None:
        t0 = time.monotonic()
        seeded = None
        if self.kind == "hearth":
            sizes = ",".join(str(r.size) for r in self.rooms)
            out = self.ctx.manage(
                "-m", "bench.hearth_seed", "rooms", "--sizes", sizes, "--tag", self.tag
            )
            seeded = json.loads(out.strip().splitlines()[-1])["rooms"]
        self.setup["seed_seconds"] = round(time.monotonic() - t0, 2)
        for number in range(self.servers):
            self.started.append(
                targets.start_target(self.kind, self.ctx, name=f"{self.kind}-{number}")
            )
        self.setup["rss_before"] = self.rss()
        index = 0
        spread = len(self.rooms) < self.client_processes
        for room_number, plan in enumerate(self.rooms):
            key = str(seeded[room_number]["meeting_id"]) if seeded else plan.key
            self.room_keys.append(key)
            self.receivers[key] = plan.size
            cookies = (
                [seeded[room_number]["facilitator"], *seeded[room_number]["members"]]
                if seeded
                else [""] * plan.size
            )
            for member in range(plan.size):
                # Members of one room alternate between the server processes.
                server = self.started[(member + room_number) % self.servers]
                # A room stays in one client process unless there are fewer
                # rooms than processes; then its members are dealt out.
                process = (member if spread else room_number) % self.client_processes
                conn: dict[str, Any] = {
                    "index": index,
                    "url": targets.ws_url(self.kind, server, key),
                    "room": key,
                    "cookie": cookies[member],
                    "role": "facilitator" if member == 0 else "member",
                    "origin": targets.origin(server),
                    "process": process,
                }
                if self.slow_member and room_number == 0 and member == plan.size - 1:
                    conn["rcvbuf"] = 4096
                self.conns.append(conn)
                index += 1
        # Local positions inside each client process, and each room's
        # senders: the members living in the process of the room's member 1.
        seen: dict[int, int] = {}
        for conn in self.conns:
            conn["local"] = seen.get(conn["process"], 0)
            seen[conn["process"]] = conn["local"] + 1
        for key in self.room_keys:
            members = [c for c in self.conns if c["room"] == key]
            home = members[1]["process"] if len(members) > 1 else members[0]["process"]
            self.home[key] = home
            self.senders[key] = [
                c["local"]
                for c in members
                if c["role"] == "member" and c["process"] == home
            ]
            self.fac_process[key] = members[0]["process"]
            self.fac_members[key] = [
                c["local"]
                for c in members
                if c["role"] == "member" and c["process"] == members[0]["process"]
            ]
        self.group = ClientGroup(
            "hearth" if self.kind == "hearth" else "echo",
            self.conns,
            processes=self.client_processes,
            log_dir=self.ctx.log_dir,
            ping_every=self.ping_every,
            connect_concurrency=self.connect_concurrency,
        )
        self.group.start()
        t1 = time.monotonic()
        answers = self.group.command("CONNECT", timeout=900)
        self.setup["connect_seconds"] = round(time.monotonic() - t1, 2)
        self.setup["connected"] = sum(a["connected"] for a in answers)
        failures: dict[str, int] = {}
        for answer in answers:
            for reason, count in answer["failures"].items():
                failures[reason] = failures.get(reason, 0) + count
        self.setup["connect_failures"] = failures
        t2 = time.monotonic()
        opened = self.group.command("OPEN", timeout=900)
        self.setup["open_seconds"] = round(time.monotonic() - t2, 2)
        self.setup["open"] = [a for a in opened if a.get("opened")]
        if self.kind == "hearth":
            self.setup["admitted_seconds"] = self._wait_admitted(
                timeout=60 + 0.05 * len(self.conns)
            )
        t3 = time.monotonic()
        joined = self.group.command("JOIN", timeout=1800)
        self.setup["join_seconds"] = round(time.monotonic() - t3, 2)
        self.setup["joined"] = sum(a["joined"] for a in joined)
        self.setup["setup_seconds"] = round(time.monotonic() - t0, 2)

    def _wait_admitted(self, *, timeout: float) -> float:
        """Wait until every member's socket is in its room's channel-layer
        group before anyone joins.

        Members connect while the session is still scheduled and are
        admitted when the facilitator starts it; each socket then joins the
        room group when its consumer handles the admission refresh. A `join`
        handled before that refresh leaves the socket outside the group for
        good (found by this benchmark; see the report), so the harness waits.
        With another delivery design (one subscription per room per process)
        it waits until the count has not changed for 3 s."""
        t0 = time.monotonic()
        last, stable_since = None, time.monotonic()
        while time.monotonic() - t0 < timeout:
            sizes = self.group_members() or {}
            if sizes and all(sizes.get(k, 0) >= self.receivers[k] for k in sizes):
                break
            if sizes != last:
                last, stable_since = sizes, time.monotonic()
            elif time.monotonic() - stable_since > 3:
                # One subscription per room per process (the fan-out hub)
                # instead of one per socket: the count settles below N.
                break
            time.sleep(0.2)
        return round(time.monotonic() - t0, 2)

    # --- measurement --------------------------------------------------------
    def cpu(self) -> float:
        return sum(s.cpu().cpu for s in self.started)

    def rss(self) -> int:
        return sum(s.rss() for s in self.started)

    def measure_idle(self, seconds: float = 2.0) -> float:
        """The servers' CPU seconds per second with every socket open and
        nothing sent: subtracted to give the net cost per delivery."""
        cpu0, wall0 = self.cpu(), time.monotonic()
        time.sleep(seconds)
        self.idle_cpu_rate = (self.cpu() - cpu0) / (time.monotonic() - wall0)
        self.setup["idle_cpu_fraction"] = round(self.idle_cpu_rate, 4)
        return self.idle_cpu_rate

    def point(
        self,
        number: int,
        *,
        rate: float,
        duration: float,
        drain: float = 1.5,
        count: int | None = None,
        extra: dict[str, Any] | None = None,
        sample_rss: bool = False,
    ) -> dict[str, Any]:
        """One load point: every room sends `rate` messages a second for
        `duration` seconds (or `count` messages), then a drain."""
        assert self.group is not None
        schedules_by_process: dict[int, list[dict[str, Any]]] = {}
        for key in self.room_keys:
            schedule: dict[str, Any] = {
                "room": key,
                "rate": rate,
                "senders": self.senders[key],
            }
            if count is not None:
                schedule["count"] = count
            schedules_by_process.setdefault(self.home[key], []).append(schedule)
        body: dict[str, Any] = {"point": number, "duration": duration, "drain": drain}
        extras_by_process: dict[int, dict[str, Any]] = {}
        if extra:
            # Prompts and reactions come from the first room's facilitator
            # side; the other processes only listen.
            key = self.room_keys[0]
            extras_by_process[self.fac_process[key]] = dict(extra)
        rss_peak = [self.rss()]
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.5):
                with contextlib.suppress(Exception):
                    rss_peak.append(self.rss())

        watcher = threading.Thread(target=watch, daemon=True) if sample_rss else None
        if watcher:
            watcher.start()
        cpu0, wall0 = self.cpu(), time.monotonic()
        answers = self._go(body, schedules_by_process, extras_by_process)
        cpu1, wall1 = self.cpu(), time.monotonic()
        stop.set()
        if watcher:
            watcher.join()
        merged = merge_point(answers, self.receivers)
        deliveries = merged["deliveries"]
        merged.update(
            rate=rate,
            duration=duration,
            server_cpu_seconds=round(cpu1 - cpu0, 4),
            # Server CPU seconds per second of offered load: work spilling
            # into the drain counts, so 1.0 means the core could not keep up.
            server_cpu_fraction=round((cpu1 - cpu0) / max(1e-9, duration), 3),
            point_wall_seconds=round(wall1 - wall0, 2),
            cpu_us_per_delivery=(
                round((cpu1 - cpu0) * 1e6 / deliveries, 2) if deliveries else None
            ),
            # Less what the idle servers burn over the same time (timers,
            # channel-layer polling): the marginal cost of a delivery.
            net_cpu_us_per_delivery=(
                round(
                    max(0.0, (cpu1 - cpu0) - self.idle_cpu_rate * (wall1 - wall0))
                    * 1e6
                    / deliveries,
                    2,
                )
                if deliveries
                else None
            ),
            deliveries_per_second=round(deliveries / max(1e-9, duration), 1),
            rss_bytes=self.rss(),
        )
        if sample_rss:
            merged["rss_start_bytes"] = rss_peak[0]
            merged["rss_peak_bytes"] = max(rss_peak)
        return merged

    def _go(
        self,
        body: dict[str, Any],
        schedules: dict[int, list[dict[str, Any]]],
        extras: dict[int, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """GO to every client process, each with its own rooms' schedules."""
        assert self.group is not None
        answers: list[dict[str, Any] | None] = [None] * len(self.group.popens)
        timeout = float(body["duration"]) + float(body.get("drain", 2)) + 300

        def one(number: int, popen: Any) -> None:
            line = json.dumps(
                {
                    **body,
                    **extras.get(number, {}),
                    "schedules": schedules.get(number, []),
                }
            )
            popen.stdin.write(f"GO {line}\n".encode())
            popen.stdin.flush()
            raw = popen.stdout.readline()
            if raw:
                answers[number] = json.loads(raw)

        threads = [
            threading.Thread(target=one, args=(n, p), daemon=True)
            for n, p in enumerate(self.group.popens)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
        if any(a is None for a in answers):
            raise RuntimeError(f"a load client failed:\n{self.group.log_tail()}")
        return [a for a in answers if a is not None]

    def storm(self, in_flight: int) -> dict[str, Any]:
        assert self.group is not None
        t0 = time.monotonic()
        answers = self.group.command("STORM", {"in_flight": in_flight}, timeout=900)
        result: dict[str, Any] = {
            "reconnected": sum(a["reconnected"] for a in answers),
            "failed_handshakes": sum(a["failed_handshakes"] for a in answers),
            "failures": [a["failures"] for a in answers],
            "resyncs": sum(a["resyncs"] for a in answers),
            "all_back_seconds": max((a["all_back_seconds"] or 0.0) for a in answers),
            "wall_seconds": round(time.monotonic() - t0, 2),
        }
        return result

    def group_members(self) -> dict[str, int] | None:
        """Channel-layer group sizes, read from Redis (the layer's own
        storage; no product code involved). None for targets without one."""
        if self.kind not in ("hearth", "tutorial"):
            return None
        import redis

        db = targets.CHANNELS_DB if self.kind == "hearth" else targets.TUTORIAL_DB
        client = redis.Redis.from_url(f"{targets.REDIS_HOST}/{db}")
        try:
            sizes = {}
            for key in self.room_keys:
                name = f"room.{key}" if self.kind == "hearth" else f"chat_{key}"
                sizes[key] = int(client.zcard(f"asgi:group:{name}"))  # type: ignore[arg-type]
            return sizes
        finally:
            client.close()
