"""Processes the benchmark starts: started in their own session, pinned to a
core where `taskset` exists, measured from /proc and stopped by pid.

Every process started here is remembered; `stop_all` (also run at exit)
stops whatever is still running, so a failed scenario leaves nothing behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

_started: dict[int, subprocess.Popen[bytes]] = {}


def raise_nofile() -> int:
    """Lift this process's open-file limit to the hard limit; children
    inherit it. Returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float, proc: Server | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.popen.poll() is not None:
            raise RuntimeError(
                f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_tail()}"
            )
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        time.sleep(0.05)
    tail = proc.log_tail() if proc else ""
    raise TimeoutError(
        f"nothing listening on 127.0.0.1:{port} after {timeout}s\n{tail}"
    )


def taskset_available() -> bool:
    return shutil.which("taskset") is not None


@dataclass
class CpuSample:
    """CPU seconds (user + system) of a process and the wall clock."""

    cpu: float
    wall: float


def proc_cpu(pid: int) -> float:
    """CPU seconds of one process, all its threads, exited ones included.

    Live threads are read from the scheduler's nanosecond counters
    (/proc/<pid>/task/*/schedstat): /proc/<pid>/stat counts in 10 ms ticks,
    too coarse for short points. Threads that have exited (Django runs each
    HTTP request on a fresh thread) are gone from task/, but the process's
    own tick counters keep their time: that part is the process total less
    the live threads' ticks."""
    live_ns = 0
    live_ticks = 0
    found = False
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                    ns = int(handle.read().split()[0])
                with open(f"/proc/{pid}/task/{task}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                live_ns += ns
                live_ticks += int(fields[11]) + int(fields[12])
                found = True
    total = proc_cpu_ticks(pid)
    if not found:
        return total
    exited = max(0.0, total - live_ticks / CLOCK_TICKS)
    return live_ns / 1e9 + exited


def proc_cpu_ticks(pid: int) -> float:
    """User + system CPU seconds from /proc/<pid>/stat (10 ms resolution)."""
    with open(f"/proc/{pid}/stat") as handle:
        # The command name may hold spaces: fields start after the last ')'.
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_rss(pid: int) -> int:
    """Resident set size in bytes, from /proc/<pid>/statm."""
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * PAGE_SIZE


def tree_pids(pid: int) -> list[int]:
    """The process and its descendants (uvicorn --workers forks children)."""
    found = [pid]
    index = 0
    while index < len(found):
        current = found[index]
        index += 1
        path = Path(f"/proc/{current}/task/{current}/children")
        with contextlib.suppress(OSError):
            found.extend(int(p) for p in path.read_text().split())
    return found


@dataclass
class Server:
    """A process under test (or a helper), started by `start`."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int
    pinned: bool
    cores: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def pids(self) -> list[int]:
        return tree_pids(self.pid)

    def workers(self) -> list[int]:
        """The processes that serve sockets: the children of a uvicorn
        supervisor, or the process itself when it has none."""
        children = self.pids()[1:]
        return children or [self.pid]

    def cpu(self) -> CpuSample:
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError, IndexError):
                total += proc_cpu(pid)
        return CpuSample(total, time.monotonic())

    def rss(self) -> int:
        total = 0
        for pid in self.workers():
            with contextlib.suppress(OSError):
                total += proc_rss(pid)
        return total

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.popen.poll() is None


def start(
    name: str,
    args: list[str],
    *,
    port: int,
    log_dir: Path,
    env: dict[str, str] | None = None,
    cores: str | None = "0",
    ready_timeout: float = 60.0,
) -> Server:
    """Start `args` in its own session, pinned to `cores` when possible, and
    wait until it listens on `port`."""
    pinned = bool(cores) and taskset_available()
    command = ["taskset", "-c", str(cores), *args] if pinned else args
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    handle = log.open("ab")
    popen = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env if env is not None else dict(os.environ),
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    handle.close()
    _started[popen.pid] = popen
    server = Server(name, popen, log, port, pinned, str(cores or ""))
    try:
        wait_for_port(port, timeout=ready_timeout, proc=server)
    except Exception:
        stop(server)
        raise
    return server


def stop(server: Server, *, timeout: float = 10.0) -> None:
    """TERM the process group by its leader's pid, then KILL it."""
    popen = server.popen
    _started.pop(popen.pid, None)
    if popen.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signal.SIGTERM)
        try:
            popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(timeout=timeout)
    # Children left behind by a supervisor that died first.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(popen.pid, signal.SIGKILL)


def stop_all() -> None:
    """Stop every process still running that this module started."""
    running = list(_started.items())
    _started.clear()
    for pid, popen in running:
        if popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for pid, popen in running:
        try:
            popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)


def track(popen: subprocess.Popen[bytes]) -> None:
    """Remember a helper process (a load client) so that it is stopped too."""
    _started[popen.pid] = popen


def untrack(popen: subprocess.Popen[bytes]) -> None:
    _started.pop(popen.pid, None)


atexit.register(stop_all)
