"""A socket that stops reading: its queue is bounded, it is closed 4408,
nobody else notices, and it can come back and resume without a gap."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from facilitation import consumers
from facilitation.models import LiveRoom, RoomEvent
from tests.facilitation.conftest import seat, stored_events

pytestmark = pytest.mark.django_db(transaction=True)

OUTBOX = 20


@pytest.fixture
def stalled(monkeypatch: pytest.MonkeyPatch) -> set[int]:
    """User ids whose sockets stop taking frames (a reader that hangs)."""
    users: set[int] = set()
    send = consumers.RoomConsumer.send
    never = asyncio.Event()

    async def maybe_stall(self: Any, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "who", None) and self.who.user_id in users:
            await never.wait()
        await send(self, *args, **kwargs)

    monkeypatch.setattr(consumers.RoomConsumer, "send", maybe_stall)
    monkeypatch.setattr(consumers, "MAX_OUTBOX", OUTBOX)
    return users


async def test_a_socket_that_stops_reading_is_closed_and_can_resume(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    member2: Any,
    stalled: set[int],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.HEARTH = {**settings.HEARTH, "CHAT_BURST": 1000}
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    seen = ann.last_seq
    stalled.add(member.pk)
    for n in range(OUTBOX + 5):
        await fac.ok({"type": "chat.send", "text": f"n{n}"})
    assert await ann.closed(timeout=3) == 4408
    last = (await stored_events(meeting))[-1][0]
    got = await ben.catch_up(last)  # the others are not held up
    assert [f["seq"] for f in got if f["type"] == "event"][-1] == last

    stalled.clear()
    monkeypatch.setattr(consumers, "MAX_OUTBOX", 1000)  # what the replay needs
    back = await sockets(member, meeting)
    await back.send({"type": "resume", "after_seq": seen})
    resumed, missed = await back.expect("resumed")
    log = [e for e in await stored_events(meeting) if e[0] > seen]
    assert [(f["seq"], f["kind"]) for f in missed] == [(s, k) for s, k, _ in log]
    assert resumed["seq"] == log[-1][0]


@database_sync_to_async
def backlog(meeting: Any, count: int) -> int:
    """`count` more stored events, written straight to the log."""
    room = LiveRoom.objects.get(meeting=meeting)
    first = room.last_seq + 1
    RoomEvent.objects.bulk_create(
        RoomEvent(room=room, seq=seq, kind="reaction", data={"emoji": "heart"})
        for seq in range(first, first + count)
    )
    room.last_seq = first + count - 1
    room.save(update_fields=["last_seq"])
    return room.last_seq


async def test_a_resume_longer_than_the_outbox_arrives_whole(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    _, [ann] = await seat(sockets, meeting, facilitator, member)
    seen = ann.last_seq
    await ann.disconnect()
    behind = consumers.MAX_OUTBOX + 200
    assert behind < settings.HEARTH["RESUME_LIMIT"]
    await backlog(meeting, behind)
    back = await sockets(member, meeting)
    await back.send({"type": "resume", "after_seq": seen})
    resumed, missed = await back.expect(
        lambda f: f["type"] in ("resumed", "websocket.close"), timeout=10
    )
    assert resumed["type"] == "resumed"
    log = [s for s, _, _ in await stored_events(meeting) if s > seen]
    assert [f["seq"] for f in missed] == log
    assert await back.nothing()  # and the socket stays open
