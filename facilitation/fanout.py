"""Room fan-out: one channel-layer subscription per room per process.

The plain Channels pattern puts every socket in the room's group, so every
event costs one channel-layer message (and, on Redis, one round trip) per
recipient. Here each server process has one hub channel; the hub joins the
room's group once when the first local socket of that room arrives, and
writes each event's already-encoded text to every local socket of the room.
The per-recipient work left is a queue append and the socket write.

The hub holds no room state: it is only a delivery path. Sequence numbers,
gap filling and resume still come from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Iterable
from itertools import pairwise
from typing import Protocol

from channels.layers import get_channel_layer

log = logging.getLogger("hearth.room")

# Re-join groups well before the channel layer's group expiry.
REFRESH_SECONDS = 15 * 60
# How long a later event waits here for an earlier one still on its way
# (events are published after commit, from several threads, so the layer
# can carry seq 8 before seq 7). After this the sockets fill the hole from
# the log themselves.
REORDER_SECONDS = 0.05
# Reactions are many and light: the ones arriving within this long go out
# together, so a room of 500 sending a hundred hearts a second costs a few
# writes per socket a second, not a hundred. Anything else that arrives
# meanwhile takes them along at once (the order by seq never changes).
COALESCE_SECONDS = 0.1
COALESCED_KINDS = frozenset({"reaction"})


class Subscriber(Protocol):
    def offer(self, seq: int, text: str) -> None: ...

    def offer_run(self, run: list[tuple[int, str]], batch: str) -> None: ...


def batch_frame(texts: Iterable[str]) -> str:
    """Encoded events joined into one `events` frame (docs/protocol.md),
    without decoding them again."""
    return '{"type":"events","events":[' + ",".join(texts) + "]}"


class RoomHub:
    """Per event loop (so per process in production)."""

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.rooms: dict[int, set[Subscriber]] = {}
        self.pump: asyncio.Task[None] | None = None
        self.joined_at: dict[int, float] = {}
        self._lock = asyncio.Lock()
        # Events received but not yet handed to sockets (see `_collect`).
        self.waiting: dict[int, list[tuple[int, str]]] = {}
        # Per room: the seq this process hands out next, events that came
        # early, and the timer that stops waiting for the ones before them.
        self.next_seq: dict[int, int] = {}
        self.early: dict[int, dict[int, str]] = {}
        self.hole_timers: dict[int, asyncio.TimerHandle] = {}
        # Seqs given up on (see `_stop_waiting`): still wanted if they come.
        self.skipped: dict[int, set[int]] = {}
        self.loop = asyncio.get_running_loop()
        # The pending flush: soon (call_soon) or after COALESCE_SECONDS.
        self._flush_at: asyncio.Handle | None = None
        self._flush_soon = False

    async def _ensure_channel(self) -> str:
        if self.channel is None:
            # The default prefix: channels_redis multiplexes every process-local
            # channel of one prefix over a single Redis list per process.
            self.channel = await self.layer.new_channel()
            self.pump = asyncio.create_task(self._run(), name="room-hub")
        return self.channel

    async def join(self, meeting_id: int, subscriber: Subscriber) -> None:
        async with self._lock:
            channel = await self._ensure_channel()
            local = self.rooms.setdefault(meeting_id, set())
            if not local:
                await self.layer.group_add(_group(meeting_id), channel)
                self.joined_at[meeting_id] = time.monotonic()
            local.add(subscriber)

    async def leave(self, meeting_id: int, subscriber: Subscriber) -> None:
        async with self._lock:
            local = self.rooms.get(meeting_id)
            if not local:
                return
            local.discard(subscriber)
            if not local and self.channel is not None:
                del self.rooms[meeting_id]
                self.joined_at.pop(meeting_id, None)
                self.next_seq.pop(meeting_id, None)
                self.early.pop(meeting_id, None)
                self.skipped.pop(meeting_id, None)
                if timer := self.hole_timers.pop(meeting_id, None):
                    timer.cancel()
                await self.layer.group_discard(_group(meeting_id), self.channel)

    async def _refresh(self) -> None:
        now = time.monotonic()
        for meeting_id, since in list(self.joined_at.items()):
            if now - since > REFRESH_SECONDS and self.channel is not None:
                await self.layer.group_add(_group(meeting_id), self.channel)
                self.joined_at[meeting_id] = now

    async def _run(self) -> None:
        assert self.channel is not None
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The layer (Redis) is down: back off; clients resume by seq.
                log.exception("room hub receive failed")
                await asyncio.sleep(1)
                continue
            try:
                if message.get("type") == "room.event":
                    self._collect(
                        message["meeting_id"],
                        message["seq"],
                        message["text"],
                        message.get("kind", ""),
                    )
                await self._refresh()
            except Exception:
                # One malformed message (an older process mid-deploy, say)
                # must not end delivery for every socket of this process.
                log.exception("room hub could not deliver a message")

    def _collect(self, meeting_id: int, seq: int, text: str, kind: str = "") -> None:
        """Hold an event until the loop comes round, so that events which
        arrived together (a burst while the process was busy writing the
        last one to every socket) go out as one frame per socket. A lone
        event leaves at once; reactions wait up to COALESCE_SECONDS for
        company."""
        self.waiting.setdefault(meeting_id, []).append((seq, text))
        if kind in COALESCED_KINDS:
            if self._flush_at is None:
                self._flush_at = self.loop.call_later(COALESCE_SECONDS, self._flush)
        elif not self._flush_soon:
            if self._flush_at is not None:
                self._flush_at.cancel()
            self._flush_soon = True
            self._flush_at = self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        if self._flush_at is not None:
            self._flush_at.cancel()  # when flushed early by a test or shutdown
        self._flush_at, self._flush_soon = None, False
        waiting, self.waiting = self.waiting, {}
        for meeting_id, arrived in waiting.items():
            try:
                self._release(meeting_id, arrived)
            except Exception:
                log.exception("room hub could not deliver room=%s", meeting_id)

    def _release(self, meeting_id: int, arrived: list[tuple[int, str]]) -> None:
        """Hand sockets the events that are next in line, in seq order, as one
        run; keep any that came early until the hole before them closes.
        Putting the order right once here spares every socket of the room a
        trip to the log."""
        early = self.early.setdefault(meeting_id, {})
        early.update(arrived)
        expected = self.next_seq.get(meeting_id, min(early))
        skipped = self.skipped.get(meeting_id, set())
        for seq in sorted(s for s in early if s < expected):
            # Already handed out (this process published it and the layer
            # brought it back), unless it is one that was given up on.
            text = early.pop(seq)
            if seq in skipped:
                skipped.discard(seq)
                self.dispatch(meeting_id, seq, text)
        run = []
        while expected in early:
            run.append((expected, early.pop(expected)))
            expected += 1
        self.next_seq[meeting_id] = expected
        if run:
            self.dispatch_run(meeting_id, run)
        timer = self.hole_timers.pop(meeting_id, None)
        if early:
            self.hole_timers[meeting_id] = (
                timer
                or asyncio.get_running_loop().call_later(
                    REORDER_SECONDS, self._stop_waiting, meeting_id
                )
            )
        elif timer is not None:
            timer.cancel()

    def _stop_waiting(self, meeting_id: int) -> None:
        """The missing event never came on the layer: send what came after
        it; each socket sees the hole and fills it from the log."""
        self.hole_timers.pop(meeting_id, None)
        early = self.early.pop(meeting_id, {})
        if early:
            run = sorted(early.items())
            expected = self.next_seq.get(meeting_id, run[0][0])
            missing = set(range(expected, run[-1][0])) - set(early)
            skipped = self.skipped.setdefault(meeting_id, set())
            skipped.update(missing)
            if len(skipped) > 1000:  # bounded: the oldest holes are long filled
                for seq in sorted(skipped)[:-1000]:
                    skipped.discard(seq)
            self.next_seq[meeting_id] = run[-1][0] + 1
            try:
                self.dispatch_run(meeting_id, run)
            except Exception:
                log.exception("room hub could not deliver room=%s", meeting_id)

    def dispatch(self, meeting_id: int, seq: int, text: str) -> None:
        for subscriber in tuple(self.rooms.get(meeting_id, ())):
            subscriber.offer(seq, text)

    def dispatch_run(self, meeting_id: int, run: list[tuple[int, str]]) -> None:
        """Events of one room in seq order: one frame per socket when they
        are consecutive, else one by one."""
        consecutive = all(b[0] == a[0] + 1 for a, b in pairwise(run))
        if len(run) == 1 or not consecutive:
            for seq, text in run:
                self.dispatch(meeting_id, seq, text)
            return
        batch = batch_frame(text for _, text in run)
        for subscriber in tuple(self.rooms.get(meeting_id, ())):
            subscriber.offer_run(run, batch)

    def subscribers(self, meeting_id: int) -> Iterable[Subscriber]:
        return tuple(self.rooms.get(meeting_id, ()))


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RoomHub] = (
    weakref.WeakKeyDictionary()
)


def hub() -> RoomHub:
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        found = _hubs[loop] = RoomHub()
    return found


def deliver_here(meeting_id: int, seq: int, text: str, kind: str = "") -> None:
    """Hand a just-stored event to this process's hubs that serve the room.
    Called from the thread that committed it; the hub takes it on its loop.
    Events from several threads pile up while the loop is busy and then go
    out together (`_collect`)."""
    for loop, found in list(_hubs.items()):
        if meeting_id not in found.rooms or loop.is_closed():
            continue
        try:
            loop.call_soon_threadsafe(found._collect, meeting_id, seq, text, kind)
        except RuntimeError:  # the loop closed meanwhile
            continue


def _group(meeting_id: int) -> str:
    return f"room.{meeting_id}"


async def close_hub() -> None:
    """Stop this loop's hub (tests; a server shutting down)."""
    loop = asyncio.get_running_loop()
    found = _hubs.pop(loop, None)
    if found is not None and found.pump is not None:
        found.pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await found.pump


__all__ = ["RoomHub", "Subscriber", "batch_frame", "close_hub", "hub"]
