"""Fixtures for the live-room tests: real session cookies, the real ASGI
stack (origin check, session and auth middleware) and a small client that
reads frames with deadlines instead of sleeps."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from importlib import import_module
from typing import Any

import pytest
from channels import DEFAULT_CHANNEL_LAYER
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

# Imported here, not in a test: get_asgi_application() re-runs logging setup,
# which would drop caplog's handler in whichever test imported it first.
from config.asgi import application
from facilitation import fanout, ratelimit
from tests.factories import MeetingFactory, MembershipFactory

ORIGIN = "http://127.0.0.1:8000"
CLOSED = "websocket.close"


def login_session(user: Any) -> str:
    """A real, saved Django session for `user`; returns its key."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return str(store.session_key)


def headers_for(session_key: str | None, origin: str | None = ORIGIN) -> list:
    headers = []
    if origin is not None:
        headers.append((b"origin", origin.encode("latin1")))
    if session_key:
        cookie = f"{settings.SESSION_COOKIE_NAME}={session_key}"
        headers.append((b"cookie", cookie.encode("latin1")))
    return headers


class Socket:
    """One browser tab: a WebsocketCommunicator on `config.asgi.application`.

    Frames are decoded JSON; a close from the server reads as
    `{"type": "websocket.close", "code": ...}`."""

    def __init__(self, path: str, headers: list, name: str = "") -> None:
        self.name = name
        self.comm = WebsocketCommunicator(application, path, headers=headers)
        self.open = False
        self.finished = False
        self.closed_code: int | None = None
        self.last_seq = 0
        self.pending: deque[dict[str, Any]] = deque()
        self.batches = 0  # `events` frames seen (several events in one)

    async def connect(self, timeout: float = 5) -> tuple[bool, Any]:
        ok, detail = await self.comm.connect(timeout=timeout)
        self.open = ok
        if not ok:
            self.closed_code = detail
        return ok, detail

    async def send(self, frame: dict[str, Any] | str) -> None:
        # As a browser sends it: JSON.stringify leaves non-ASCII unescaped.
        text = (
            frame if isinstance(frame, str) else json.dumps(frame, ensure_ascii=False)
        )
        await self.comm.send_input({"type": "websocket.receive", "text": text})

    async def send_bytes(self, data: bytes) -> None:
        await self.comm.send_input({"type": "websocket.receive", "bytes": data})

    async def _read(self, timeout: float) -> dict[str, Any]:
        try:
            output = await self.comm.receive_output(timeout)
        except TimeoutError:
            raise AssertionError(f"{self.name}: no frame within {timeout}s") from None
        if output["type"] == CLOSED:
            self.open = False
            self.closed_code = output.get("code", 1000)
            return {"type": CLOSED, "code": self.closed_code}
        assert output["type"] == "websocket.send", output
        text = output["text"]
        # Whatever reaches a browser must be valid UTF-8 text.
        text.encode("utf-8")
        frame = dict(json.loads(text))
        if frame.get("type") == "events":
            # Several events in one frame: read them one by one, in order.
            first, *rest = frame["events"]
            self.pending.extendleft(reversed(rest))
            self.batches += 1
            return dict(first)
        return frame

    async def recv(self, timeout: float = 3) -> dict[str, Any]:
        """The next frame. A timeout here is a test failure (and, as with
        any communicator, it stops the application)."""
        frame = self.pending.popleft() if self.pending else await self._read(timeout)
        kind = frame.get("type")
        if kind == "event" or (kind == "snapshot" and frame.get("admitted")):
            self.last_seq = max(self.last_seq, frame["seq"])
        return frame

    async def expect(
        self, match: Callable[[dict[str, Any]], bool] | str, timeout: float = 3
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Read until a frame matches (a predicate, or a `type`); returns it
        and the frames read before it."""
        if isinstance(match, str):
            wanted = match
            match = lambda f: f.get("type") == wanted  # noqa: E731
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        before: list[dict[str, Any]] = []
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"{self.name}: no match; got {before}")
            frame = await self.recv(timeout=left)
            if match(frame):
                return frame, before
            before.append(frame)

    async def request(
        self, frame: dict[str, Any] | str, timeout: float = 3
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Send a frame; return the first ack or error after it. Frames that
        arrive before the reply stay queued for the next `recv`."""
        await self.send(frame)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"{self.name}: no reply to {frame}")
            got = await self._read(left)
            if got.get("type") in ("ack", "error"):
                return got, []
            self.pending.append(got)

    async def ok(self, frame: dict[str, Any]) -> dict[str, Any]:
        reply, _ = await self.request(frame)
        assert reply["type"] == "ack", reply
        if isinstance(frame, dict):
            assert reply["for"] == frame["type"], reply
        return reply

    async def error(self, frame: dict[str, Any] | str, timeout: float = 3) -> dict:
        """Send something and return the error frame it earns."""
        reply, _ = await self.request(frame, timeout)
        assert reply["type"] == "error", reply
        return reply

    async def join(self) -> dict[str, Any]:
        await self.send({"type": "join"})
        snapshot, _ = await self.expect("snapshot")
        return snapshot

    async def catch_up(self, seq: int, timeout: float = 3) -> list[dict[str, Any]]:
        """Read until the event with `seq` has arrived; returns what was read."""
        if self.last_seq >= seq:
            return []
        last, before = await self.expect(lambda f: self.last_seq >= seq, timeout)
        return [*before, last]

    async def drain(self, quiet: float = 0.15) -> list[dict[str, Any]]:
        """Everything that arrives until the socket has been quiet a moment."""
        frames = []
        while self.pending:
            frames.append(await self.recv())
        while not await self.comm.receive_nothing(timeout=quiet):
            frames.append(await self.recv())
        return frames

    async def nothing(self, quiet: float = 0.2) -> bool:
        if self.pending:
            return False
        return bool(await self.comm.receive_nothing(timeout=quiet))

    async def closed(self, timeout: float = 2) -> int:
        """Wait for the server to close the socket; returns the code."""
        frame, _ = await self.expect(CLOSED, timeout)
        return int(frame["code"])

    async def disconnect(self) -> None:
        self.open = False
        self.finished = True
        await self.comm.disconnect(timeout=5)


def events_of(frames: list[dict[str, Any]], kind: str | None = None) -> list[dict]:
    return [
        f
        for f in frames
        if f.get("type") == "event" and (kind is None or f["kind"] == kind)
    ]


@pytest.fixture
def meeting(group):  # type: ignore[no-untyped-def]
    return MeetingFactory(group=group, title="Tuesday circle")


@pytest.fixture
def member2(group):  # type: ignore[no-untyped-def]
    return MembershipFactory(group=group, role="member").user


@pytest.fixture
def member3(group):  # type: ignore[no-untyped-def]
    return MembershipFactory(group=group, role="member").user


@pytest.fixture
def sessions() -> dict[int, str]:
    """One logged-in session per user, made on first use."""
    return {}


@pytest.fixture
async def sockets(
    sessions: dict[int, str],
) -> AsyncIterator[Callable[..., Any]]:
    """`await sockets(user, meeting)` opens a connected, not yet joined tab;
    every tab is closed at teardown."""
    opened: list[Socket] = []
    # A fresh channel layer in this test's event loop: channels_redis keeps
    # asyncio locks that cannot cross loops, and in-memory groups must not
    # leak from one test into the next.
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    layer = get_channel_layer()

    async def open_socket(
        user: Any,
        meeting: Any,
        *,
        session_key: str | None = None,
        origin: str | None = ORIGIN,
        path: str | None = None,
        expect_ok: bool = True,
        name: str = "",
        timeout: float = 5,
    ) -> Socket:
        if user is not None and session_key is None:
            if user.pk not in sessions:
                sessions[user.pk] = await database_sync_to_async(login_session)(user)
            session_key = sessions[user.pk]
        socket = Socket(
            path or f"/ws/sessions/{meeting.pk}/",
            headers_for(session_key, origin),
            name=name or (getattr(user, "display_name", "") or "anonymous"),
        )
        opened.append(socket)
        ok, detail = await socket.connect(timeout)
        if expect_ok:
            assert ok, f"{socket.name} refused with {detail}"
        return socket

    yield open_socket
    # Every tab ends with a disconnect, as a real server sends one even
    # after a refusal or a close from the server.
    for socket in opened:
        if not socket.finished:
            # The application may have stopped already (or been cancelled).
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await socket.disconnect()
    with contextlib.suppress(Exception):  # a pump that died already
        await fanout.close_hub()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)


@pytest.fixture
def frozen_ratelimit(monkeypatch: pytest.MonkeyPatch, settings: Any) -> list[float]:
    """Rate-limit windows on a clock the test controls: `clock[0] += 10`.

    The counters live in a process-local cache here: a Redis cache is shared
    with every other test process on the machine, and their `cache.clear()`
    at each test start would reset these counters mid-test."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "hearth-ratelimit-tests",
        }
    }
    from django.core.cache import cache

    cache.clear()
    clock = [1_000_000.0]

    class _Clock:
        @staticmethod
        def time() -> float:
            return clock[0]

    monkeypatch.setattr(ratelimit, "time", _Clock)
    return clock


@database_sync_to_async
def stored_events(meeting: Any) -> list[tuple[int, str, dict[str, Any]]]:
    """The room's log as (seq, kind, data), in order."""
    from facilitation.models import RoomEvent

    return list(
        RoomEvent.objects.filter(room__meeting=meeting)
        .order_by("seq")
        .values_list("seq", "kind", "data")
    )


@database_sync_to_async
def room_state(meeting: Any) -> dict[str, Any]:
    from facilitation.models import LiveRoom

    return dict(LiveRoom.objects.get(meeting=meeting).state)


async def seat(
    sockets: Callable[..., Any], meeting: Any, facilitator: Any, *members: Any
) -> tuple[Socket, list[Socket]]:
    """A live room with auto-admit on: the facilitator and every member in
    it, joined, with everything so far read off their sockets."""
    fac = await sockets(facilitator, meeting, name="facilitator")
    await fac.join()
    await fac.ok({"type": "room.auto_admit", "on": True})
    await fac.ok({"type": "room.start"})
    await fac.expect("lobby")  # opening tells facilitators who waits
    await fac.expect("plan")  # ...and hands them the plan it fixed
    tabs = []
    for index, person in enumerate(members):
        tab = await sockets(person, meeting, name=f"member{index + 1}")
        snapshot = await tab.join()
        assert snapshot["admitted"], snapshot
        tabs.append(tab)
    last = (await stored_events(meeting))[-1][0]
    for tab in [fac, *tabs]:
        await tab.catch_up(last)
    return fac, tabs
