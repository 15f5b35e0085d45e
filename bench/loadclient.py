"""The load client: many WebSocket connections in one asyncio process.

Driven by the orchestrator over stdin/stdout, one command a line, one JSON
answer a line (so that several client processes can move in step):

    CONNECT            open every connection (no frame sent yet)
    OPEN               the facilitator (if here) turns auto-admit on and starts
    JOIN               every connection joins (Hearth) and waits to be admitted
    GO <json point>    send / observe for one load point, answer with figures
    STORM <json>       drop every connection, reconnect, resume
    QUIT               close everything and exit

The spec (first line of stdin, JSON) lists the connections: url, room,
cookie, role. Two wire modes: `echo` (the baselines: a frame comes back as
sent, or wrapped by the tutorial consumer) and `hearth` (the product's
protocol: join, chat.send with client_msg_id, ack and event frames).

A sent chat carries a marker `~B|point|room|sender|seq|t_ns|` padded to the
payload size; t_ns is CLOCK_MONOTONIC, shared by every process on the host.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

MARK = "~B|"


def now_ns() -> int:
    return time.monotonic_ns()


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Conn:
    index: int  # position in the spec (global across client processes)
    url: str
    room: str
    cookie: str = ""
    role: str = "member"
    ws: ClientConnection | None = None
    reader: asyncio.Task[None] | None = None
    last_seq: int | None = None
    admitted: bool = False
    seen: set[int] = field(default_factory=set)  # (sender, seq) keys this point
    high: dict[int, int] = field(default_factory=dict)  # sender -> highest seq
    waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    snapshot: asyncio.Future[dict[str, Any]] | None = None
    resumed: asyncio.Future[int] | None = None
    readable: asyncio.Event = field(default_factory=asyncio.Event)
    slow: bool = False
    close_code: int | None = None
    origin: str = ""
    rcvbuf: int = 0


@dataclass
class PointStats:
    point: int
    slow_start_ns: int = 0
    slow_stop_ns: int = 0
    lat_us: list[int] = field(default_factory=list)
    lat_slow_window_us: list[int] = field(default_factory=list)
    lat_slow_member_us: list[int] = field(default_factory=list)
    msgs: dict[str, list[int]] = field(default_factory=dict)  # key -> [n, max_ns]
    sent: list[list[Any]] = field(default_factory=list)  # [room, sender, seq, t]
    doubled: int = 0
    out_of_order: int = 0
    late: int = 0
    event_gaps: int = 0
    event_doubled: int = 0
    snapshots: int = 0
    batches: int = 0  # `events` frames (several events in one)
    events: dict[int, list[Any]] = field(default_factory=dict)  # seq -> [n, max, kind]
    acked: dict[int, list[Any]] = field(default_factory=dict)  # seq -> [t_ns, kind]
    errors: Counter[str] = field(default_factory=Counter)
    slow_member: dict[str, Any] = field(default_factory=dict)


class Client:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.mode: str = spec["mode"]
        self.origin: str = spec.get("origin", "")
        self.payload: int = int(spec.get("payload_bytes", 150))
        self.concurrency: int = int(spec.get("connect_concurrency", 200))
        self.ping_every: float = float(spec.get("ping_every", 0))
        self.conns = [
            Conn(
                c["index"],
                c["url"],
                c["room"],
                c.get("cookie", ""),
                c.get("role", ""),
                origin=c.get("origin", ""),
                rcvbuf=int(c.get("rcvbuf", 0)),
            )
            for c in spec["conns"]
        ]
        self.stats = PointStats(-1)
        self.closed: Counter[str] = Counter()
        self.connect_failures: Counter[str] = Counter()
        self._next_ref = 0
        self._pinger: asyncio.Task[None] | None = None

    # --- connections ----------------------------------------------------
    def _headers(self, conn: Conn) -> dict[str, str]:
        headers = {}
        if conn.cookie:
            headers["Cookie"] = f"sessionid={conn.cookie}"
        return headers

    async def _open(self, conn: Conn) -> None:
        sock = None
        rcvbuf = conn.rcvbuf
        if rcvbuf:
            # A slow reader: a small kernel buffer so that not reading is
            # felt by the server within seconds, not megabytes.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            host_port = conn.url.split("//", 1)[1].split("/", 1)[0]
            host, port = host_port.rsplit(":", 1)
            await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
        conn.ws = await connect(
            conn.url,
            additional_headers=self._headers(conn),
            origin=(conn.origin or self.origin or None),  # type: ignore[arg-type]
            compression=None,
            open_timeout=60,
            ping_interval=None,
            close_timeout=5,
            max_size=2**24,
            max_queue=4 if rcvbuf else 1024,
            sock=sock,
        )
        conn.close_code = None
        conn.readable.set()
        conn.reader = asyncio.create_task(self._read(conn))

    async def connect_all(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(self.concurrency)
        started = now_ns()

        async def one(conn: Conn) -> None:
            async with gate:
                for attempt in range(3):
                    try:
                        await self._open(conn)
                        return
                    except Exception as error:
                        self.connect_failures[_reason(error)] += 1
                        await asyncio.sleep(0.2 * (attempt + 1))

        await asyncio.gather(*(one(c) for c in self.conns))
        return {
            "connected": sum(1 for c in self.conns if c.ws is not None),
            "failures": dict(self.connect_failures),
            "seconds": (now_ns() - started) / 1e9,
        }

    async def close_all(self) -> None:
        if self._pinger:
            self._pinger.cancel()
        await asyncio.gather(
            *(c.ws.close() for c in self.conns if c.ws is not None),
            return_exceptions=True,
        )
        for conn in self.conns:
            if conn.reader:
                conn.reader.cancel()

    # --- frames in ------------------------------------------------------
    async def _read(self, conn: Conn) -> None:
        ws = conn.ws
        assert ws is not None
        try:
            async for message in ws:
                if not conn.readable.is_set():
                    await conn.readable.wait()
                if isinstance(message, str):
                    self._on_text(conn, message, now_ns())
        except ConnectionClosed:
            pass
        finally:
            code = ws.close_code
            conn.close_code = code
            self.closed[str(code)] += 1

    def _on_text(self, conn: Conn, text: str, at: int) -> None:
        if self.mode == "echo":
            start = text.find(MARK)
            if start >= 0:
                self._on_marker(conn, text, start, at)
            return
        frame = json.loads(text)
        if frame.get("type") == "events":  # several events in one frame
            self.stats.batches += 1
            for event in frame["events"]:
                self._on_frame(conn, event, at)
            return
        self._on_frame(conn, frame, at)

    def _on_frame(self, conn: Conn, frame: dict[str, Any], at: int) -> None:
        kind = frame.get("type")
        stats = self.stats
        if kind == "event":
            seq = int(frame["seq"])
            if conn.last_seq is not None:
                if seq <= conn.last_seq:
                    stats.event_doubled += 1
                    return
                if seq > conn.last_seq + 1:
                    stats.event_gaps += seq - conn.last_seq - 1
                conn.last_seq = seq
            data_text = frame.get("data", {}).get("text")
            if frame.get("kind") == "chat.message" and isinstance(data_text, str):
                start = data_text.find(MARK)
                if start >= 0:
                    self._on_marker(conn, data_text, start, at)
                    return
            row = stats.events.get(seq)
            if row is None:
                stats.events[seq] = [1, at, frame.get("kind")]
            else:
                row[0] += 1
                row[1] = max(row[1], at)
        elif kind == "ack":
            ref = frame.get("client_msg_id") or ""
            waiter = conn.waiting.pop(ref, None)
            if waiter and not waiter.done():
                waiter.set_result(frame)
        elif kind == "error":
            stats.errors[str(frame.get("code"))] += 1
            ref = frame.get("client_msg_id") or ""
            waiter = conn.waiting.pop(ref, None)
            if waiter and not waiter.done():
                waiter.set_result(frame)
        elif kind == "snapshot":
            stats.snapshots += 1
            conn.admitted = bool(frame.get("admitted"))
            conn.last_seq = int(frame["seq"]) if conn.admitted else None
            if conn.snapshot and not conn.snapshot.done():
                conn.snapshot.set_result(frame)
        elif kind == "resumed":
            conn.last_seq = int(frame["seq"])
            if conn.resumed and not conn.resumed.done():
                conn.resumed.set_result(conn.last_seq)

    def _on_marker(self, conn: Conn, text: str, start: int, at: int) -> None:
        parts = text[start + 3 :].split("|", 5)
        stats = self.stats
        if int(parts[0]) != stats.point:
            stats.late += 1
            return
        sender, seq, sent_at = int(parts[2]), int(parts[3]), int(parts[4])
        key = sender * 10_000_000 + seq
        if key in conn.seen:
            stats.doubled += 1
            return
        conn.seen.add(key)
        if seq < conn.high.get(sender, -1):
            stats.out_of_order += 1
        else:
            conn.high[sender] = seq
        latency = (at - sent_at) // 1000
        if conn.slow:
            stats.lat_slow_member_us.append(latency)
        elif (
            stats.slow_start_ns
            and sent_at >= stats.slow_start_ns
            and (sent_at < stats.slow_stop_ns)
        ):
            stats.lat_slow_window_us.append(latency)
        else:
            stats.lat_us.append(latency)
        msg_key = f"{parts[1]}|{sender}|{seq}"
        row = stats.msgs.get(msg_key)
        if row is None:
            stats.msgs[msg_key] = [1, at - sent_at]
        else:
            row[0] += 1
            if at - sent_at > row[1]:
                row[1] = at - sent_at

    # --- frames out -----------------------------------------------------
    def _ref(self, prefix: str) -> str:
        self._next_ref += 1
        return f"{prefix}{self._next_ref}"

    async def request(
        self, conn: Conn, frame: dict[str, Any], *, timeout: float = 30
    ) -> dict[str, Any]:
        """Send a frame with a client_msg_id and wait for its ack or error."""
        assert conn.ws is not None
        ref = self._ref("q")
        waiter: asyncio.Future[dict[str, Any]] = (
            asyncio.get_running_loop().create_future()
        )
        conn.waiting[ref] = waiter
        await conn.ws.send(json.dumps({**frame, "client_msg_id": ref}))
        return await asyncio.wait_for(waiter, timeout)

    async def join(self, conn: Conn, *, tries: int = 40) -> bool:
        """Join and wait to be admitted (the facilitator may not have opened
        the room yet). Baselines have nothing to join."""
        if self.mode == "echo" or conn.ws is None:
            return True
        for _ in range(tries):
            conn.snapshot = asyncio.get_running_loop().create_future()
            await conn.ws.send('{"type":"join"}')
            snapshot = await asyncio.wait_for(conn.snapshot, 60)
            if snapshot.get("admitted"):
                return True
            await asyncio.sleep(0.5)
        return False

    async def join_all(self) -> dict[str, Any]:
        started = now_ns()
        gate = asyncio.Semaphore(self.concurrency)

        async def one(conn: Conn) -> bool:
            async with gate:
                try:
                    return await self.join(conn)
                except (TimeoutError, ConnectionClosed):
                    return False

        joined = await asyncio.gather(*(one(c) for c in self.conns))
        if self.mode == "hearth" and self.ping_every and self._pinger is None:
            self._pinger = asyncio.create_task(self._ping_loop())
        return {
            "joined": sum(joined),
            "not_joined": len(joined) - sum(joined),
            "seconds": (now_ns() - started) / 1e9,
        }

    async def _ping_loop(self) -> None:
        """The browser's presence heartbeat, spread evenly over the period."""
        while True:
            gap = self.ping_every / max(1, len(self.conns))
            for conn in self.conns:
                if conn.ws is not None and conn.close_code is None:
                    with contextlib.suppress(ConnectionClosed):
                        await conn.ws.send('{"type":"ping"}')
                await asyncio.sleep(gap)

    async def open_room(self) -> dict[str, Any]:
        """Every facilitator in this process opens its room: auto-admit on,
        then start."""
        facilitators = [
            c for c in self.conns if c.role == "facilitator" and c.ws is not None
        ]
        if self.mode == "echo" or not facilitators:
            return {"opened": False}

        async def one(facilitator: Conn) -> list[str]:
            await self.join(facilitator)
            replies = []
            for frame in (
                {"type": "room.auto_admit", "on": True},
                {"type": "room.start"},
            ):
                reply = await self.request(facilitator, frame, timeout=120)
                replies.append(str(reply.get("code") or reply.get("type")))
            return replies

        gate = asyncio.Semaphore(5)

        async def gated(facilitator: Conn) -> list[str]:
            async with gate:
                return await one(facilitator)

        replies = await asyncio.gather(*(gated(f) for f in facilitators))
        return {"opened": True, "rooms": len(replies), "replies": replies[0]}

    def _chat_frame(self, point: int, room: str, sender: int, seq: int) -> str:
        marker = f"{MARK}{point}|{room}|{sender}|{seq}|{now_ns()}|"
        ref = f"c{sender}-{point}-{seq}"
        frame = json.dumps({"type": "chat.send", "text": marker, "client_msg_id": ref})
        pad = max(0, self.payload - len(frame))
        return frame.replace(marker, marker + "x" * pad, 1)

    async def _send_schedule(
        self, point: int, schedule: dict[str, Any], t0: float, duration: float
    ) -> None:
        """Open loop: message i leaves at t0 + i / rate whatever the server
        does, so a slow server cannot slow the offered load down."""
        senders = [self.conns[i] for i in schedule["senders"]]
        rate = float(schedule["rate"])
        count = int(schedule.get("count") or round(rate * duration))
        room = schedule["room"]
        seqs: Counter[int] = Counter()
        for i in range(count):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            conn = senders[i % len(senders)]
            if conn.ws is None or conn.close_code is not None:
                self.stats.errors["sender_closed"] += 1
                continue
            seqs[conn.index] += 1
            seq = seqs[conn.index]
            frame = self._chat_frame(point, room, conn.index, seq)
            sent_at = int(frame.split("|", 6)[5])
            self.stats.sent.append([room, conn.index, seq, sent_at])
            try:
                await conn.ws.send(frame)
            except ConnectionClosed:
                self.stats.errors["send_closed"] += 1

    async def _send_acked(self, conn: Conn, frame: dict[str, Any], kind: str) -> None:
        """A non-chat frame whose delivery is timed by its event's seq."""
        sent = now_ns()
        try:
            reply = await self.request(conn, frame, timeout=60)
        except (TimeoutError, ConnectionClosed):
            self.stats.errors[f"{kind}_timeout"] += 1
            return
        if reply.get("type") == "ack" and reply.get("seq") is not None:
            self.stats.acked[int(reply["seq"])] = [sent, kind]

    async def _prompts(self, every: float, t0: float, duration: float) -> None:
        facilitator = next(c for c in self.conns if c.role == "facilitator")
        tasks = []
        k = 0
        while (at := t0 + (k + 1) * every) < t0 + duration:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            frame = {"type": "prompt.show", "index": k % 2}
            tasks.append(
                asyncio.create_task(self._send_acked(facilitator, frame, "prompt"))
            )
            k += 1
        await asyncio.gather(*tasks)

    async def _burst(self, burst: dict[str, Any], t0: float) -> None:
        members = [self.conns[i] for i in burst["conns"]]
        start = t0 + float(burst["at"])
        within = float(burst.get("within", 1.0))
        tasks = []
        facilitator = next((c for c in self.conns if c.role == "facilitator"), None)
        for j, conn in enumerate(members):
            await asyncio.sleep(
                max(0.0, start + j * within / len(members) - time.monotonic())
            )
            frame: dict[str, Any] = {"type": "reaction", "emoji": "heart"}
            tasks.append(asyncio.create_task(self._send_acked(conn, frame, "reaction")))
            if facilitator and j == len(members) // 2:
                frame = {"type": "prompt.show", "index": 0}
                tasks.append(
                    asyncio.create_task(
                        self._send_acked(facilitator, frame, "burst_prompt")
                    )
                )
        await asyncio.gather(*tasks)

    async def _slow(self, slow: dict[str, Any], t0: float) -> None:
        conn = self.conns[int(slow["conn"])]
        await asyncio.sleep(max(0.0, t0 + float(slow["start"]) - time.monotonic()))
        conn.readable.clear()
        await asyncio.sleep(float(slow["stop"]) - float(slow["start"]))
        conn.readable.set()

    async def go(self, point: dict[str, Any]) -> dict[str, Any]:
        index = int(point["point"])
        duration = float(point["duration"])
        self.stats = stats = PointStats(index)
        for conn in self.conns:
            conn.seen.clear()
            conn.high.clear()
        cpu0, wall0 = cpu_seconds(), time.monotonic()
        t0 = wall0 + 0.05
        slow = point.get("slow")
        if slow:
            stats.slow_start_ns = int((t0 + float(slow["start"])) * 1e9)
            stats.slow_stop_ns = int((t0 + float(slow["stop"])) * 1e9)
            self.conns[int(slow["conn"])].slow = True
        jobs = [self._send_schedule(index, s, t0, duration) for s in point["schedules"]]
        if point.get("prompt_every") and any(
            c.role == "facilitator" for c in self.conns
        ):
            jobs.append(self._prompts(float(point["prompt_every"]), t0, duration))
        if point.get("burst"):
            jobs.append(self._burst(point["burst"], t0))
        if slow:
            jobs.append(self._slow(slow, t0))
        await asyncio.gather(*jobs)
        await asyncio.sleep(max(0.0, t0 + duration - time.monotonic()))
        # Busy fraction while the load was offered: the drain is left out
        # (an idle drain would hide a saturated client).
        send_wall = time.monotonic() - wall0
        send_cpu = cpu_seconds() - cpu0
        await asyncio.sleep(float(point.get("drain", 2.0)))
        wall = time.monotonic() - wall0
        cpu = cpu_seconds() - cpu0
        if slow:
            member = self.conns[int(slow["conn"])]
            member.slow = False
            stats.slow_member = {
                "delivered": len(stats.lat_slow_member_us),
                "close_code": member.close_code,
                "still_open": member.close_code is None,
            }
        # Which connections got fewer messages than their room's best: a
        # lead for whoever reads a loss figure.
        best: Counter[str] = Counter()
        for conn in self.conns:
            best[conn.room] = max(best[conn.room], len(conn.seen))
        short = [
            [c.index, c.role, len(c.seen), c.close_code]
            for c in self.conns
            if len(c.seen) < best[c.room]
        ][:50]
        return {
            "point": index,
            "short_conns": short,
            "cpu_seconds": cpu,
            "wall_seconds": wall,
            "cpu_fraction": send_cpu / send_wall if send_wall else 0.0,
            "lat_us": stats.lat_us,
            "lat_slow_window_us": stats.lat_slow_window_us,
            "lat_slow_member_us": stats.lat_slow_member_us,
            "msgs": stats.msgs,
            "sent": stats.sent,
            "doubled": stats.doubled,
            "out_of_order": stats.out_of_order,
            "late": stats.late,
            "event_gaps": stats.event_gaps,
            "event_doubled": stats.event_doubled,
            "snapshots": stats.snapshots,
            "batches": stats.batches,
            "events": {str(k): v for k, v in stats.events.items()},
            "acked": {str(k): v for k, v in stats.acked.items()},
            "errors": dict(stats.errors),
            "slow_member": stats.slow_member,
            "closed": dict(self.closed),
            "open": sum(
                1 for c in self.conns if c.ws is not None and c.close_code is None
            ),
        }

    # --- reconnect storm --------------------------------------------------
    async def storm(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Drop every connection at once, then come back with at most
        `in_flight` handshakes open; Hearth members resume from their seq."""
        in_flight = int(spec.get("in_flight", 500))
        last = {c.index: c.last_seq for c in self.conns}
        for conn in self.conns:
            if conn.ws is not None:
                # An abrupt drop (as when a network or a proxy goes away).
                transport = conn.ws.transport
                transport.abort()
        await asyncio.sleep(float(spec.get("pause", 0.5)))
        for conn in self.conns:
            if conn.reader:
                conn.reader.cancel()
            conn.ws = None
        gate = asyncio.Semaphore(in_flight)
        loop = asyncio.get_running_loop()
        failures: Counter[str] = Counter()
        back_at: list[float] = []
        resync = 0
        started = time.monotonic()

        async def one(conn: Conn) -> None:
            nonlocal resync
            async with gate:
                for _ in range(5):
                    try:
                        await self._open(conn)
                        break
                    except Exception as error:
                        failures[_reason(error)] += 1
                        await asyncio.sleep(0.2)
                else:
                    return
            if self.mode == "hearth" and conn.ws is not None:
                after = last.get(conn.index)
                if after is None:
                    await self.join(conn)
                else:
                    resumed: asyncio.Future[Any] = loop.create_future()
                    snapshot: asyncio.Future[Any] = loop.create_future()
                    conn.resumed, conn.snapshot = resumed, snapshot
                    await conn.ws.send(
                        json.dumps({"type": "resume", "after_seq": after})
                    )
                    done, _ = await asyncio.wait(
                        [resumed, snapshot],
                        timeout=60,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if not done:
                        failures["resume_timeout"] += 1
                        return
                    if conn.snapshot.done():
                        resync += 1
            back_at.append(time.monotonic() - started)

        await asyncio.gather(*(one(c) for c in self.conns))
        back_at.sort()
        return {
            "reconnected": len(back_at),
            "failed_handshakes": sum(
                v for k, v in failures.items() if k != "resume_timeout"
            ),
            "failures": dict(failures),
            "resyncs": resync,
            "all_back_seconds": back_at[-1] if back_at else None,
            "p50_back_seconds": back_at[len(back_at) // 2] if back_at else None,
        }


def _reason(error: BaseException) -> str:
    name = type(error).__name__
    status = getattr(getattr(error, "response", None), "status_code", None)
    return f"{name}:{status}" if status else name


async def serve(spec: dict[str, Any]) -> None:
    client = Client(spec)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            command, _, arg = line.strip().partition(" ")
            if command == "CONNECT":
                answer = await client.connect_all()
            elif command == "OPEN":
                answer = await client.open_room()
            elif command == "JOIN":
                answer = await client.join_all()
            elif command == "GO":
                answer = await client.go(json.loads(arg))
            elif command == "STORM":
                answer = await client.storm(json.loads(arg))
            elif command == "QUIT":
                break
            else:
                answer = {"error": f"unknown command {command}"}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        await client.close_all()


def main() -> None:
    import os

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    spec = json.loads(sys.stdin.readline())
    factory = None
    with contextlib.suppress(ImportError):
        import uvloop

        factory = uvloop.new_event_loop
    asyncio.run(serve(spec), loop_factory=factory)
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
