"""Two real ASGI server processes, one PostgreSQL database, one Redis
channel layer, real WebSocket clients spread across both: order, state,
resume and removal must not depend on which process a socket landed on.

Runs in the integration pass (DATABASE_URL=postgres://…, REDIS_URL=redis://…).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from facilitation.models import LiveRoom, RoomConnection, RoomEvent
from groups.models import Membership
from tests.facilitation.conftest import login_session
from tests.facilitation.wsclient import Peer
from tests.factories import MeetingFactory, MembershipFactory, SupportGroupFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    """The pytest-django test database (test_<name>), as a URL for the
    server processes."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_uvicorn(port: int, env: dict[str, str], out: Any) -> subprocess.Popen[bytes]:
    """The production ASGI server on loopback, its output to `out`."""
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )


def wait_for_port(port: int, proc: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {proc.returncode}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.5),
        ):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start in time")


@pytest.fixture(scope="module")
def servers(django_db_setup: None, tmp_path_factory: Any) -> Iterator[dict[str, int]]:
    """Servers A and B: `uvicorn config.asgi:application` on two ports."""
    url = database_url()
    assert connection.settings_dict["NAME"].startswith("test_")
    ports = {"A": free_port(), "B": free_port()}
    origins = ",".join(f"http://127.0.0.1:{p}" for p in ports.values())
    logs = tmp_path_factory.mktemp("servers")
    procs = []
    for name, port in ports.items():
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": url,
            "REDIS_URL": settings.REDIS_URL,
            "DEBUG": "true",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "TRUSTED_ORIGINS": origins,
            "HEARTH_VAR_DIR": str(logs / f"var-{name}"),
            "HEARTH_CHAT_BURST": "1000",
            "HEARTH_CHAT_RATE_PER_MINUTE": "1000",
            "LOG_LEVEL": "WARNING",
        }
        out = (logs / f"{name}.log").open("wb")
        procs.append(start_uvicorn(port, env, out))
    try:
        deadline = time.monotonic() + 60
        for proc, port in zip(procs, ports.values(), strict=True):
            wait_for_port(port, proc, deadline)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
async def peers(servers: dict[str, int]) -> Any:
    """`await peers(user, "A", meeting)` connects a real client to server A
    with a fresh logged-in session cookie."""
    from websockets.asyncio.client import connect

    opened: list[Peer] = []

    async def open_peer(
        user: Any, server: str, meeting: Any, *, session_key: str = ""
    ) -> Peer:
        key = session_key or await database_sync_to_async(login_session)(user)
        port = servers[server]
        ws = await connect(
            f"ws://127.0.0.1:{port}/ws/sessions/{meeting.pk}/",
            origin=f"http://127.0.0.1:{port}",
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={key}"},
            open_timeout=5,
            max_size=2**20,
        )
        peer = Peer(f"{user.display_name}@{server}", ws)
        opened.append(peer)
        return peer

    yield open_peer
    for peer in opened:
        await peer.close()
    # Let the servers finish their disconnect work before the tables go.
    deadline = time.monotonic() + 10
    count = database_sync_to_async(RoomConnection.objects.count)
    while time.monotonic() < deadline and await count():
        await asyncio.sleep(0.05)


@pytest.fixture
def circle() -> dict[str, Any]:
    group = SupportGroupFactory()
    people = {
        "fac": MembershipFactory(group=group, role="facilitator").user,
        **{
            f"m{i}": MembershipFactory(group=group, role="member").user
            for i in range(1, 5)
        },
    }
    return {"group": group, "meeting": MeetingFactory(group=group), **people}


async def live_room(peers: Any, circle: dict[str, Any]) -> dict[str, Peer]:
    """The facilitator on A; members alternate between B and A."""
    meeting = circle["meeting"]
    fac = await peers(circle["fac"], "A", meeting)
    await fac.join()
    await fac.ok({"type": "room.auto_admit", "on": True})
    await fac.ok({"type": "room.start"})
    tabs = {"fac": fac}
    for index, name in enumerate(("m1", "m2", "m3", "m4")):
        tab = await peers(circle[name], "B" if index % 2 == 0 else "A", meeting)
        snapshot = await tab.join()
        assert snapshot["admitted"] and snapshot["status"] == "live"
        tabs[name] = tab
    return tabs


@database_sync_to_async
def logged(meeting: Any, after: int = 0) -> list[tuple[int, str, dict]]:
    return list(
        RoomEvent.objects.filter(room__meeting=meeting, seq__gt=after)
        .order_by("seq")
        .values_list("seq", "kind", "data")
    )


async def test_everyone_sees_the_same_events_in_the_same_order(
    peers: Any, circle: dict[str, Any]
) -> None:
    tabs = await live_room(peers, circle)
    start = {name: tab.frames[-1]["seq"] for name, tab in tabs.items()}

    async def talk(name: str) -> list[int]:
        return [
            (await tabs[name].ok({"type": "chat.send", "text": f"{name} says {n}"}))[
                "seq"
            ]
            for n in range(15)
        ]

    acked = await asyncio.gather(*(talk(name) for name in tabs))
    for seq_list in acked:
        assert seq_list == sorted(seq_list)
    all_acked = sorted(s for seq_list in acked for s in seq_list)
    assert len(set(all_acked)) == len(all_acked) == 75

    log = await logged(circle["meeting"])
    last = log[-1][0]
    assert [seq for seq, _, _ in log] == list(range(1, last + 1))
    for name, tab in tabs.items():
        await tab.reach(last)
        got = tab.events_after(start[name])
        assert [seq for seq, _, _ in got] == list(range(start[name] + 1, last + 1))
        assert got == [e for e in log if e[0] > start[name]], name


async def test_state_changed_on_one_process_shows_in_snapshots_on_the_other(
    peers: Any, circle: dict[str, Any]
) -> None:
    tabs = await live_room(peers, circle)
    m1, m2 = circle["m1"], circle["m2"]
    await tabs["m1"].ok({"type": "hand.raise"})  # on B
    await tabs["m2"].ok({"type": "hand.raise"})  # on A
    await tabs["fac"].ok({"type": "queue.next"})  # on A
    await tabs["fac"].ok({"type": "pin.set", "text": "Tea is in the kitchen."})
    await tabs["fac"].ok({"type": "room.lock", "on": True})
    ack = await tabs["fac"].ok({"type": "timer.set", "seconds": 300})

    late = await peers(circle["m3"], "B", circle["meeting"])
    snapshot = await late.join()
    assert snapshot["seq"] >= ack["seq"]
    state = snapshot["state"]
    assert (state["speaking"], state["queue"]) == (m1.pk, [m2.pk])
    assert (state["pinned"], state["locked"]) == ("Tea is in the kitchen.", True)
    assert state["timer"]["seconds"] == 300
    assert set(snapshot["present"]) == {
        circle[n].pk for n in ("fac", "m1", "m2", "m3", "m4")
    }
    # The lock set through A holds for a member on B.
    refused = await late.request({"type": "chat.send", "text": "hello?"})
    assert refused["code"] == "locked"


async def test_a_client_that_drops_from_a_resumes_on_b_with_exactly_what_it_missed(
    peers: Any, circle: dict[str, Any]
) -> None:
    tabs = await live_room(peers, circle)
    away = tabs["m2"]  # on A
    await tabs["fac"].ok({"type": "chat.send", "text": "before"})
    seen = (await logged(circle["meeting"]))[-1][0]
    await away.reach(seen)
    await away.close()
    for n in range(10):
        await tabs["m1" if n % 2 else "fac"].ok(
            {"type": "chat.send", "text": f"while away {n}"}
        )
    back = await peers(circle["m2"], "B", circle["meeting"])
    await back.ws.send(json.dumps({"type": "resume", "after_seq": seen}))
    resumed = await back.wait(lambda f: f["type"] == "resumed")
    missed = back.events_after(seen)
    log = await logged(circle["meeting"], after=seen)
    assert missed == log  # in order, none twice, nothing else
    assert [seq for seq, _, _ in missed] == list(range(seen + 1, resumed["seq"] + 1))
    assert sum(1 for _, kind, _ in missed if kind == "chat.message") == 10
    assert back.frames.index(resumed) == len(missed)  # events first, then resumed


@database_sync_to_async
def csrf_post(port: int, path: str, session_key: str) -> int:
    """A form POST through server `port`, as the browser would send it."""
    token = secrets.token_hex(16)  # 32 characters: Django's unmasked form
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST",
            path,
            body="",
            headers={
                "Cookie": f"{settings.SESSION_COOKIE_NAME}={session_key}; "
                f"{settings.CSRF_COOKIE_NAME}={token}",
                "X-CSRFToken": token,
                "Origin": f"http://127.0.0.1:{port}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        return conn.getresponse().status
    finally:
        conn.close()


async def test_a_member_removed_on_a_is_closed_on_b_within_two_seconds(
    peers: Any, circle: dict[str, Any], servers: dict[str, int]
) -> None:
    tabs = await live_room(peers, circle)
    removed = tabs["m3"]  # on B
    fac_key = await database_sync_to_async(login_session)(circle["fac"])
    membership = await database_sync_to_async(Membership.objects.get)(
        group=circle["group"], user=circle["m3"]
    )
    path = f"/groups/{circle['group'].slug}/members/{membership.pk}/remove/"
    started = time.monotonic()
    assert await csrf_post(servers["A"], path, fac_key) == 302
    assert await removed.closed(timeout=2) == 4403
    assert time.monotonic() - started < 2
    gone = database_sync_to_async(Membership.objects.filter(pk=membership.pk).exists)
    assert not await gone()
    await tabs["fac"].ok({"type": "chat.send", "text": "still here"})


async def test_logging_out_on_a_closes_that_sessions_socket_on_b_only(
    peers: Any, circle: dict[str, Any], servers: dict[str, int]
) -> None:
    tabs = await live_room(peers, circle)
    key = await database_sync_to_async(login_session)(circle["m1"])
    laptop = await peers(circle["m1"], "B", circle["meeting"], session_key=key)
    await laptop.join()
    assert await csrf_post(servers["A"], "/accounts/logout/", key) == 302
    assert await laptop.closed(timeout=2) == 4401
    await tabs["m1"].ok({"type": "chat.send", "text": "my phone is still here"})


async def test_the_connection_cap_counts_sockets_on_every_process(
    peers: Any, circle: dict[str, Any]
) -> None:
    from websockets.exceptions import InvalidStatus

    meeting = circle["meeting"]
    for n in range(settings.HEARTH["MAX_ROOM_CONNECTIONS"]):
        await peers(circle["m4"], "AB"[n % 2], meeting)
    with pytest.raises(InvalidStatus) as refused:
        await peers(circle["m4"], "A", meeting)
    assert refused.value.response.status_code == 403
    rooms = database_sync_to_async(LiveRoom.objects.filter(meeting=meeting).count)
    assert await rooms() == 1
