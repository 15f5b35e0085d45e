"""Delivery: acks after commit, sequence numbers, idempotent resends,
resume, resync, the join snapshot boundary and gaps from lost broadcasts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import DatabaseError

from facilitation import events
from facilitation.models import LiveRoom, RoomEvent
from tests.facilitation.conftest import events_of, seat, stored_events

pytestmark = pytest.mark.django_db(transaction=True)


def seqs(frames: list[dict[str, Any]]) -> list[int]:
    return [f["seq"] for f in events_of(frames)]


def as_logged(frames: list[dict[str, Any]]) -> list[tuple[int, str, dict]]:
    return [(f["seq"], f["kind"], f["data"]) for f in events_of(frames)]


async def log_grows(meeting: Any, *, by: int, timeout: float = 5) -> None:
    """Wait until `by` more events are stored (the chatter is running)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    start = len(await stored_events(meeting))
    while len(await stored_events(meeting)) < start + by:
        assert loop.time() < deadline, "the log stopped growing"
        await asyncio.sleep(0.02)


@pytest.fixture
def no_chat_limit(settings: Any) -> None:
    settings.HEARTH = {
        **settings.HEARTH,
        "CHAT_BURST": 10_000,
        "CHAT_RATE_PER_MINUTE": 10_000,
    }


async def test_the_ack_carries_the_seq_and_everyone_gets_the_event_once(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, member2: Any
) -> None:
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    last = (await stored_events(meeting))[-1][0]
    await ann.send({"type": "chat.send", "text": "hi all", "client_msg_id": "a-1"})
    ack, _ = await ann.expect("ack")
    assert (ack["for"], ack["client_msg_id"], ack["seq"]) == (
        "chat.send",
        "a-1",
        last + 1,
    )
    await fac.ok({"type": "reaction", "emoji": "heart"})  # something after it
    for tab in (fac, ann, ben):
        got = await tab.catch_up(last + 2)
        got += await tab.drain(quiet=0.1)
        assert seqs(got) == [last + 1, last + 2], tab.name
        assert events_of(got)[0]["data"]["text"] == "hi all"


async def test_a_resent_message_is_stored_once_and_acked_with_the_same_seq(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, member2: Any
) -> None:
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    frame = {"type": "chat.send", "text": "only once", "client_msg_id": "dup-1"}
    acks = [await ann.ok(frame) for _ in range(3)]
    other_tab = await sockets(member, meeting)
    await other_tab.join()
    acks.append(await other_tab.ok(frame))
    assert len({a["seq"] for a in acks}) == 1
    rows = database_sync_to_async(
        RoomEvent.objects.filter(kind="chat.message", client_msg_id="dup-1").count
    )
    assert await rows() == 1
    # Another person may use the same id for their own message.
    theirs = await ben.ok(frame)
    assert theirs["seq"] > acks[0]["seq"]
    got = await fac.catch_up(theirs["seq"])
    got += await fac.drain(quiet=0.1)
    chats = events_of(got, "chat.message")
    assert [c["seq"] for c in chats] == [acks[0]["seq"], theirs["seq"]]


async def test_an_ack_only_follows_a_commit(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    last = (await stored_events(meeting))[-1][0]
    publish = events.publish

    def publish_then_fail(room: Any, event: Any) -> None:
        publish(room, event)
        raise DatabaseError("could not commit")

    monkeypatch.setattr(events, "publish", publish_then_fail)
    reply = await ann.error({"type": "chat.send", "text": "lost", "client_msg_id": "x"})
    assert reply["code"] == "server_error"
    assert await fac.nothing()
    assert (await stored_events(meeting))[-1][0] == last
    room = await database_sync_to_async(LiveRoom.objects.get)(meeting=meeting)
    assert room.last_seq == last

    monkeypatch.setattr(events, "publish", publish)
    ack = await ann.ok({"type": "chat.send", "text": "again", "client_msg_id": "x"})
    assert ack["seq"] == last + 1  # no hole in the numbering


async def test_resume_sends_exactly_what_was_missed_then_resumed(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, member2: Any
) -> None:
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    seen = ann.last_seq
    await ann.disconnect()
    for n in range(5):
        await fac.ok({"type": "chat.send", "text": f"while away {n}"})
    await ben.ok({"type": "hand.raise"})

    back = await sockets(member, meeting)
    await back.send({"type": "resume", "after_seq": seen})
    resumed, missed = await back.expect("resumed")
    log = [e for e in await stored_events(meeting) if e[0] > seen]
    assert as_logged(missed) == log  # in order, none twice, nothing else
    assert [k for _, k, _ in log][:1] == ["presence.left"]
    assert resumed == {"type": "resumed", "seq": log[-1][0]}

    ack = await fac.ok({"type": "chat.send", "text": "welcome back"})
    live, before = await back.expect("event")
    assert before == []
    assert live["seq"] == ack["seq"] == resumed["seq"] + 1


async def test_resume_when_nothing_was_missed(
    sockets: Any, meeting: Any, facilitator: Any
) -> None:
    _fac, _ = await seat(sockets, meeting, facilitator)
    second = await sockets(facilitator, meeting)  # not the last tab: no presence
    last = (await stored_events(meeting))[-1][0]
    await second.send({"type": "resume", "after_seq": last})
    resumed, before = await second.expect("resumed")
    assert (resumed["seq"], before) == (last, [])


@pytest.mark.parametrize("offset", [1, 100])
async def test_a_seq_from_the_future_needs_a_resync(
    sockets: Any, meeting: Any, facilitator: Any, offset: int
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    last = (await stored_events(meeting))[-1][0]
    await fac.send({"type": "resume", "after_seq": last + offset})
    first = await fac.recv()
    assert first == {"type": "resync_required"}
    snapshot = await fac.recv()
    assert (snapshot["type"], snapshot["seq"]) == ("snapshot", last)


async def test_a_negative_seq_needs_a_resync(
    sockets: Any, meeting: Any, facilitator: Any
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    await fac.send({"type": "resume", "after_seq": -1})
    assert await fac.recv() == {"type": "resync_required"}
    assert (await fac.recv())["type"] == "snapshot"


async def test_too_far_behind_needs_a_resync(
    sockets: Any, meeting: Any, facilitator: Any, settings: Any
) -> None:
    settings.HEARTH = {**settings.HEARTH, "RESUME_LIMIT": 5}
    fac, _ = await seat(sockets, meeting, facilitator)
    for _n in range(6):
        await fac.ok({"type": "reaction", "emoji": "heart"})
    last = (await stored_events(meeting))[-1][0]

    within = await sockets(facilitator, meeting)
    await within.send({"type": "resume", "after_seq": last - 5})
    _resumed, missed = await within.expect("resumed")
    assert seqs(missed) == list(range(last - 4, last + 1))

    behind = await sockets(facilitator, meeting)
    await behind.send({"type": "resume", "after_seq": last - 6})
    assert await behind.recv() == {"type": "resync_required"}
    snapshot = await behind.recv()
    assert (snapshot["type"], snapshot["seq"]) == ("snapshot", last)
    assert snapshot["history"][-1]["seq"] == last


async def test_resume_from_the_lobby_is_a_join(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac = await sockets(facilitator, meeting)
    await fac.join()
    await fac.ok({"type": "room.open"})
    tab = await sockets(member, meeting)
    await tab.send({"type": "resume", "after_seq": 1})
    snapshot = await tab.recv()
    assert (snapshot["type"], snapshot["admitted"]) == ("snapshot", False)


async def test_joining_while_messages_flow_has_no_gap_or_duplicate(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    member2: Any,
    member3: Any,
    no_chat_limit: None,
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    stop = asyncio.Event()

    async def chatter() -> int:
        n = 0
        while not stop.is_set() and n < 200:
            await fac.ok({"type": "chat.send", "text": f"flowing {n}"})
            n += 1
        return n

    task = asyncio.create_task(chatter())
    joiners = []
    for person in (member, member2, member3):
        await log_grows(meeting, by=2)  # let a few messages through
        tab = await sockets(person, meeting)
        snapshot = await tab.join()
        assert snapshot["history"][-1]["seq"] == snapshot["seq"]
        assert "flowing" in str(snapshot["history"])
        joiners.append((tab, snapshot["seq"]))
    # Keep talking until the last one has a live message too.
    first_live, before = await joiners[-1][0].expect(
        lambda f: f.get("kind") == "chat.message"
    )
    stop.set()
    await task
    last = (await stored_events(meeting))[-1][0]
    for tab, start in joiners:
        got = [*before, first_live] if tab is joiners[-1][0] else []
        got += await tab.catch_up(last)
        got += await tab.drain(quiet=0.1)
        assert seqs(got) == list(range(start + 1, last + 1)), tab.name
        assert events_of(got, "chat.message"), tab.name


async def test_a_lost_broadcast_is_filled_from_the_log(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    member2: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    last = (await stored_events(meeting))[-1][0]
    lost = last + 2
    send = events._send
    dropped = []

    def drop_one(group: str, message: dict[str, Any]) -> None:
        if message.get("seq") == lost:
            dropped.append(lost)  # the layer delivers at most once
            return
        send(group, message)

    monkeypatch.setattr(events, "_send", drop_one)
    for text in ("one", "two (lost)", "three", "four"):
        await fac.ok({"type": "chat.send", "text": text})
    final = last + 4
    assert dropped == [lost]
    received = {}
    for tab in (fac, ann, ben):
        got = await tab.catch_up(final)
        got += await tab.drain(quiet=0.1)
        assert seqs(got) == list(range(last + 1, final + 1)), tab.name
        received[tab.name] = as_logged(got)

    control = await sockets(member2, meeting)
    history = (await control.join())["history"]
    expected = [
        (e["seq"], e["kind"], e["data"]) for e in history if last < e["seq"] <= final
    ]
    for name, frames in received.items():
        assert frames == expected, name
