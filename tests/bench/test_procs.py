"""The bench's CPU reading counts threads that have already exited (Django
runs each HTTP request on a thread of its own)."""

from __future__ import annotations

import os
import threading
import time

from bench.procs import proc_cpu


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def test_cpu_of_exited_threads_is_counted() -> None:
    before = proc_cpu(os.getpid())
    for _ in range(3):
        worker = threading.Thread(target=_burn, args=(0.15,))
        worker.start()
        worker.join()
    spent = proc_cpu(os.getpid()) - before
    # 0.45 s burnt on threads that are gone; ticks are 10 ms.
    assert 0.4 <= spent <= 0.7, spent
