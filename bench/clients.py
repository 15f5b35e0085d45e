"""Orchestrator side of the load client: start K client processes, move
them in step, and merge what they measured into one set of figures."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import procs
from .stats import percentile


@dataclass
class ClientGroup:
    """K load-client processes sharing one list of connections."""

    mode: str
    conns: list[dict[str, Any]]
    processes: int = 1
    origin: str = ""
    cores: str | None = "1"
    log_dir: Path = field(default_factory=lambda: procs.ROOT / "var" / "bench")
    ping_every: float = 0.0
    connect_concurrency: int = 200
    popens: list[subprocess.Popen[bytes]] = field(default_factory=list)
    pinned: bool = False

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        count = max(1, min(self.processes, len(self.conns)))
        shares: list[list[dict[str, Any]]] = [[] for _ in range(count)]
        for position, conn in enumerate(self.conns):
            # The spec may place each connection (see rooms.RoomRun); else
            # connections are dealt round-robin.
            slot = conn.get("process", position % count) % count
            shares[slot].append(conn)
        self.pinned = bool(self.cores) and procs.taskset_available()
        for number, share in enumerate(shares):
            command = [procs.PYTHON, "-m", "bench.loadclient"]
            if self.pinned:
                command = ["taskset", "-c", str(self.cores), *command]
            log = (self.log_dir / f"client-{number}.log").open("ab")
            popen = subprocess.Popen(
                command,
                cwd=procs.ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
                env=dict(os.environ),
            )
            log.close()
            procs.track(popen)
            self.popens.append(popen)
            spec = {
                "mode": self.mode,
                "origin": self.origin,
                "conns": share,
                "ping_every": self.ping_every,
                "connect_concurrency": max(1, self.connect_concurrency // count),
            }
            self._write(popen, json.dumps(spec))

    def _write(self, popen: subprocess.Popen[bytes], line: str) -> None:
        assert popen.stdin is not None
        popen.stdin.write(line.encode() + b"\n")
        popen.stdin.flush()

    def command(
        self, command: str, arg: Any = None, *, timeout: float = 300
    ) -> list[dict[str, Any]]:
        """Send one command to every process; wait for every answer."""
        line = command if arg is None else f"{command} {json.dumps(arg)}"
        for popen in self.popens:
            self._write(popen, line)
        answers: list[dict[str, Any] | None] = [None] * len(self.popens)

        def read(number: int, popen: subprocess.Popen[bytes]) -> None:
            assert popen.stdout is not None
            raw = popen.stdout.readline()
            if raw:
                answers[number] = json.loads(raw)

        threads = [
            threading.Thread(target=read, args=(n, p), daemon=True)
            for n, p in enumerate(self.popens)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout)
        missing = [n for n, a in enumerate(answers) if a is None]
        if missing:
            tail = self.log_tail()
            raise RuntimeError(
                f"load client(s) {missing} gave no answer to {command} "
                f"within {timeout:.0f}s\n{tail}"
            )
        return [a for a in answers if a is not None]

    def log_tail(self) -> str:
        texts = []
        for path in sorted(self.log_dir.glob("client-*.log")):
            lines = path.read_text(errors="replace").splitlines()[-15:]
            texts.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(texts)

    def stop(self) -> None:
        for popen in self.popens:
            with contextlib.suppress(BrokenPipeError, OSError):
                self._write(popen, "QUIT")
        for popen in self.popens:
            try:
                popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                popen.kill()
                popen.wait(timeout=5)
            procs.untrack(popen)
        self.popens.clear()


def merge_point(
    answers: list[dict[str, Any]], receivers: dict[str, int]
) -> dict[str, Any]:
    """Merge the processes' figures for one point.

    `receivers` maps each room to how many connections should get each of
    its messages (everyone, the sender included)."""
    latencies: list[int] = []
    slow_window: list[int] = []
    slow_member: list[int] = []
    msgs: dict[str, list[int]] = {}
    events: dict[int, list[Any]] = {}
    acked: dict[int, list[Any]] = {}
    sent: list[list[Any]] = []
    errors: Counter[str] = Counter()
    closed: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    cpu = []
    for answer in answers:
        latencies += answer["lat_us"]
        slow_window += answer["lat_slow_window_us"]
        slow_member += answer["lat_slow_member_us"]
        sent += answer["sent"]
        for key, (count, worst) in answer["msgs"].items():
            row = msgs.setdefault(key, [0, 0])
            row[0] += count
            row[1] = max(row[1], worst)
        for seq, (count, last, kind) in answer["events"].items():
            row = events.setdefault(int(seq), [0, 0, kind])
            row[0] += count
            row[1] = max(row[1], last)
        for seq, value in answer["acked"].items():
            acked[int(seq)] = value
        errors.update(answer["errors"])
        closed.update(answer["closed"])
        for name in (
            "doubled",
            "out_of_order",
            "late",
            "event_gaps",
            "event_doubled",
            "snapshots",
            "batches",
            "open",
        ):
            totals[name] += int(answer.get(name, 0))
        cpu.append(answer["cpu_fraction"])
    expected = 0
    complete: list[int] = []
    incomplete = 0
    for room, _sender, _seq, _at in sent:
        expected += receivers.get(str(room), 0)
    for key, (count, worst) in msgs.items():
        room = key.split("|", 1)[0]
        if count >= receivers.get(room, 0):
            complete.append(worst // 1000)
        else:
            incomplete += 1
    delivered = sum(row[0] for row in msgs.values())
    # Messages nobody received at all are missing from `msgs` entirely.
    incomplete += max(0, len(sent) - len(msgs))
    lost = max(0, expected - delivered)
    # Non-chat events (prompts, reactions): time until everyone, by seq.
    timed: dict[str, list[int]] = {}
    for seq, (send_ns, kind) in acked.items():
        event = events.get(seq)
        if event is None:
            continue
        timed.setdefault(kind, []).append((event[1] - send_ns) // 1000)
    result: dict[str, Any] = {
        "messages_sent": len(sent),
        "deliveries_expected": expected,
        "deliveries": delivered,
        "lost": lost,
        "doubled": totals["doubled"],
        "out_of_order": totals["out_of_order"],
        "late_from_previous_point": totals["late"],
        "incomplete_messages": incomplete,
        "latency_us": summarize(latencies),
        "everyone_us": summarize(complete),
        "client_cpu_fraction": max(cpu) if cpu else 0.0,
        "client_bound": bool(cpu) and max(cpu) > 0.9,
        "client_processes": len(answers),
        "errors": dict(errors),
        "closed": dict(closed),
        "open_connections": totals["open"],
        "event_gaps": totals["event_gaps"],
        "event_doubled": totals["event_doubled"],
        "snapshots_mid_run": totals["snapshots"],
        "batch_frames": totals["batches"],
        "timed_events_us": {k: summarize(v) for k, v in timed.items()},
        "short_connections": [row for a in answers for row in a.get("short_conns", [])][
            :50
        ],
    }
    if slow_window or slow_member:
        result["others_during_slow_us"] = summarize(slow_window)
        result["slow_member_us"] = summarize(slow_member)
        result["slow_member"] = next(
            (a["slow_member"] for a in answers if a.get("slow_member")), {}
        )
    return result


def summarize(values: list[int]) -> dict[str, Any]:
    """p50 / p99 / max of microsecond values (None when empty)."""
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "p50": percentile(ordered, 50),
        "p99": percentile(ordered, 99),
        "max": ordered[-1],
    }
