"""Exactly once with real processes (catalogue F-09, F-15): a Celery worker
on Redis against the PostgreSQL test database, writing one file per email.

(a) The worker is SIGKILLed half-way through 500 reminders, a new one is
started and the sweep runs again. (b) Two beat processes sweep at once.
Either way every member gets exactly one reminder.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from accounts.models import User
from groups.models import Meeting, Membership
from reminders.models import Delivery, GroupReminderOptions, State
from tests.factories import SupportGroupFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BROKER_DB = 11  # a Redis database of its own: no other worker takes these


def _database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] or ""
    if s["PASSWORD"]:
        auth += f":{s['PASSWORD']}"
    host = s["HOST"] or "127.0.0.1"
    port = s["PORT"] or 5432
    return f"postgres://{auth}@{host}:{port}/{s['NAME']}"


def _broker_url() -> str:
    from django.conf import settings

    base = settings.REDIS_URL.rsplit("/", 1)[0]
    return f"{base}/{BROKER_DB}"


def wait_for(check: Callable[[], Any], *, timeout: float, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    return check()


class Platform:
    """Subprocesses of the platform, started and stopped by pid."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.var = tmp / "var"
        self.outbox = self.var / "outbox"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("EMAIL_URL", "CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="tests.reminders.worker_settings",
            DATABASE_URL=_database_url(),
            CELERY_BROKER_URL=_broker_url(),
            HEARTH_VAR_DIR=str(self.var),
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
        )

    def start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: killed with its children
        )
        self.processes.append(process)
        return process

    def worker(self, name: str) -> subprocess.Popen[bytes]:
        process = self.start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=2",
                "--loglevel=INFO",
                f"--hostname={name}-{os.getpid()}@%h",
                "--without-heartbeat",
                "--without-mingle",
                "--without-gossip",
            ],
        )
        log = self.tmp / f"{name}.log"
        ready = wait_for(
            lambda: (
                "ready." in log.read_text(errors="replace")
                or process.poll() is not None
            ),
            timeout=60,
        )
        assert ready and process.poll() is None, log.read_text(errors="replace")
        return process

    def beat(self, name: str) -> subprocess.Popen[bytes]:
        return self.start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.tmp / f'{name}-schedule'}",
                f"--pidfile={self.tmp / f'{name}.pid'}",
            ],
        )

    def sweep(self) -> str:
        done = subprocess.run(
            [str(BIN / "python"), "manage.py", "sweep_reminders"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return done.stdout.decode()

    @staticmethod
    def kill(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        if process.poll() is None:
            os.killpg(process.pid, sig)
        process.wait(timeout=20)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def files(self) -> list[Path]:
        return sorted(self.outbox.glob("*.eml")) if self.outbox.exists() else []

    def recipients(self) -> Counter[str]:
        counted: Counter[str] = Counter()
        for path in self.files():
            with path.open("rb") as handle:
                message = email.message_from_binary_file(
                    handle, policy=email.policy.default
                )
            counted[str(message["To"])] += 1
        return counted

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n"
            + "\n".join(p.read_text(errors="replace").splitlines()[-30:])
            for p in sorted(self.tmp.glob("*.log"))
        )


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    import redis

    client = redis.Redis.from_url(_broker_url())
    client.flushdb()
    found = Platform(tmp_path)
    try:
        yield found
    finally:
        found.stop_all()
        client.flushdb()
        client.close()


def _members(count: int) -> tuple[Meeting, list[str]]:
    """A group of `count` members with a session starting in 30 minutes:
    its 1-hour reminder is due now."""
    group = SupportGroupFactory()
    GroupReminderOptions.objects.create(group=group, offsets_minutes=[60])
    password = make_password(None)
    users = User.objects.bulk_create(
        User(
            email=f"m{i}-{group.pk}@example.org",
            display_name=f"Member {i}",
            timezone="Europe/Berlin",
            password=password,
        )
        for i in range(count)
    )
    Membership.objects.bulk_create(Membership(group=group, user=u) for u in users)
    meeting = Meeting.objects.create(
        group=group,
        title="Evening circle",
        starts_at=timezone.now() + dt.timedelta(minutes=30),
        timezone="Europe/Berlin",
    )
    return meeting, [u.email for u in users]


def _settled(meeting: Meeting) -> bool:
    return not Delivery.objects.filter(
        meeting=meeting, state__in=[State.PENDING, State.SENDING]
    ).exists()


def test_worker_killed_mid_batch_then_restarted_sends_each_exactly_once(
    platform: Platform,
) -> None:
    meeting, addresses = _members(500)
    first = platform.worker("worker-a")
    platform.sweep()
    assert Delivery.objects.filter(meeting=meeting).count() == 500
    half_way = wait_for(lambda: len(platform.files()) >= 150, timeout=90)
    assert half_way, platform.logs()
    platform.kill(first)  # SIGKILL, no warm shutdown
    sent_before = len(platform.files())
    assert sent_before < 500, "the batch finished before the kill; nothing tested"
    platform.worker("worker-b")

    def sweep_until_settled() -> bool:
        platform.sweep()
        return _settled(meeting)

    assert wait_for(sweep_until_settled, timeout=180, every=1.0), platform.logs()
    counted = platform.recipients()
    assert set(counted) == set(addresses)
    assert [a for a, n in counted.items() if n != 1] == []
    states = Counter(
        Delivery.objects.filter(meeting=meeting).values_list("state", flat=True)
    )
    assert states == {State.SENT: 500}


def test_two_beats_at_once_send_each_exactly_once(platform: Platform) -> None:
    meeting, addresses = _members(200)
    platform.worker("worker")
    platform.beat("beat-1")
    platform.beat("beat-2")

    def all_sent() -> bool:
        return len(platform.files()) >= 200 and _settled(meeting)

    assert wait_for(all_sent, timeout=120, every=0.5), platform.logs()
    time.sleep(5)  # both beats keep sweeping: still nothing more
    counted = platform.recipients()
    assert set(counted) == set(addresses)
    assert [a for a, n in counted.items() if n != 1] == []
    assert Delivery.objects.filter(meeting=meeting).count() == 200
    beat_logs = [
        (platform.tmp / f"beat-{n}.log").read_text(errors="replace") for n in (1, 2)
    ]
    assert all("reminders.tasks.sweep" in log for log in beat_logs)
