"""The process's room hub: one channel-layer subscription per room per
process, one broadcast per event, acks before the events they caused, and
a hub that keeps delivering whatever arrives on the layer."""

from __future__ import annotations

from typing import Any

import pytest
from channels.layers import get_channel_layer

from facilitation import events
from tests.facilitation.conftest import events_of, seat, stored_events

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_sender_gets_the_ack_before_the_event_it_caused(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    _, [ann] = await seat(sockets, meeting, facilitator, member)
    for n in range(5):
        await ann.send({"type": "chat.send", "text": f"n{n}", "client_msg_id": f"c{n}"})
        ack = await ann.recv()
        assert (ack["type"], ack["client_msg_id"]) == ("ack", f"c{n}")
        event = await ann.recv()
        assert (event["type"], event["seq"]) == ("event", ack["seq"])


async def test_each_event_is_broadcast_once_whoever_listens(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    member2: Any,
    member3: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fac, tabs = await seat(sockets, meeting, facilitator, member, member2, member3)
    extra = await sockets(member, meeting)  # a second tab
    await extra.join()
    sent: list[tuple[str, Any]] = []
    send = events._send

    def counting(group: str, message: dict[str, Any]) -> None:
        sent.append((group, message.get("seq")))
        send(group, message)

    monkeypatch.setattr(events, "_send", counting)
    ack = await fac.ok({"type": "chat.send", "text": "to everyone"})
    for tab in [*tabs, extra]:
        await tab.catch_up(ack["seq"])
    assert sent == [(f"room.{meeting.pk}", ack["seq"])]


async def test_a_process_subscribes_to_a_room_once_and_leaves_with_the_last_socket(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    layer = get_channel_layer()
    group = f"room.{meeting.pk}"
    calls: list[tuple[str, str]] = []
    add, discard = layer.group_add, layer.group_discard

    async def group_add(name: str, channel: str) -> None:
        calls.append(("add", name))
        await add(name, channel)

    async def group_discard(name: str, channel: str) -> None:
        calls.append(("discard", name))
        await discard(name, channel)

    monkeypatch.setattr(layer, "group_add", group_add)
    monkeypatch.setattr(layer, "group_discard", group_discard)
    fac, tabs = await seat(sockets, meeting, facilitator, member)
    second = await sockets(member, meeting)
    await second.join()
    assert [c for c in calls if c[1] == group] == [("add", group)]
    for tab in [*tabs, second]:
        await tab.disconnect()
    assert [c for c in calls if c[1] == group] == [("add", group)]
    await fac.disconnect()
    assert [c for c in calls if c[1] == group] == [("add", group), ("discard", group)]


async def test_a_malformed_message_does_not_stop_the_hub(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    layer = get_channel_layer()
    await layer.group_send(
        f"room.{meeting.pk}", {"type": "room.event", "seq": 10**6, "text": "{}"}
    )
    ack = await fac.ok({"type": "chat.send", "text": "anyone there?"})
    got = await ann.catch_up(ack["seq"], timeout=2)
    assert events_of(got)[-1]["data"]["text"] == "anyone there?"
    assert (await stored_events(meeting))[-1][0] == ack["seq"]


class _Tab:
    """A stand-in socket that records what the hub hands it."""

    def __init__(self) -> None:
        self.offers: list[tuple[int, str]] = []
        self.runs: list[tuple[list[tuple[int, str]], str]] = []

    def offer(self, seq: int, text: str) -> None:
        self.offers.append((seq, text))

    def offer_run(self, run: list[tuple[int, str]], batch: str) -> None:
        self.runs.append((run, batch))


async def test_events_that_arrive_together_leave_as_one_frame_per_socket() -> None:
    import asyncio
    import json

    from facilitation.fanout import RoomHub

    hub = RoomHub()
    tabs = [_Tab(), _Tab()]
    hub.rooms[7] = set(tabs)
    hub.rooms[8] = {other := _Tab()}
    texts = {seq: json.dumps({"type": "event", "seq": seq}) for seq in (4, 5, 6)}
    hub._collect(7, 5, texts[5])  # out of order on the layer
    hub._collect(7, 4, texts[4])
    hub._collect(8, 1, "lone")
    hub._collect(7, 6, texts[6])
    assert not any(t.runs or t.offers for t in [*tabs, other])  # held to the turn
    await asyncio.sleep(0)
    for tab in tabs:
        [(run, batch)] = tab.runs
        assert [seq for seq, _ in run] == [4, 5, 6]
        assert json.loads(batch) == {
            "type": "events",
            "events": [json.loads(texts[seq]) for seq in (4, 5, 6)],
        }
        assert tab.offers == []
    assert other.offers == [(1, "lone")] and other.runs == []


async def test_an_event_that_came_early_waits_for_the_one_before_it() -> None:
    import asyncio

    from facilitation.fanout import RoomHub

    hub = RoomHub()
    hub.rooms[7] = {tab := _Tab()}
    hub._collect(7, 4, "four")
    await asyncio.sleep(0)
    hub._collect(7, 6, "six")  # published before 5 by a faster thread
    await asyncio.sleep(0)
    assert tab.offers == [(4, "four")] and tab.runs == []
    hub._collect(7, 5, "five")
    await asyncio.sleep(0)
    assert tab.runs == [
        ([(5, "five"), (6, "six")], '{"type":"events","events":[five,six]}')
    ]
    assert hub.hole_timers == {}


async def test_a_hole_that_never_closes_is_left_to_the_sockets() -> None:
    import asyncio

    from facilitation.fanout import REORDER_SECONDS, RoomHub

    hub = RoomHub()
    hub.rooms[7] = {tab := _Tab()}
    hub._collect(7, 4, "four")
    hub._collect(7, 6, "six")  # 5 was lost on the layer
    await asyncio.sleep(0)
    assert tab.offers == [(4, "four")]
    await asyncio.sleep(REORDER_SECONDS * 2)
    # Handed over after the wait; the socket fills 5 from the log itself.
    assert tab.offers == [(4, "four"), (6, "six")]
    hub._collect(7, 7, "seven")
    await asyncio.sleep(0)
    assert tab.offers[-1] == (7, "seven")


async def test_a_burst_reaches_everyone_complete_and_in_order(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    member2: Any,
    settings: Any,
) -> None:
    """However the hub groups a burst into frames, each socket sees every
    event once, in order, and the grouping never splits an event."""
    import asyncio

    settings.HEARTH = {**settings.HEARTH, "CHAT_BURST": 1000}
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    first = (await stored_events(meeting))[-1][0] + 1
    for tab in (fac, ann, ben):
        for _ in range(10):
            await tab.send({"type": "reaction", "emoji": "heart"})
    for _ in range(100):  # until all thirty are stored
        last = (await stored_events(meeting))[-1][0]
        if last >= first + 29:
            break
        await asyncio.sleep(0.1)
    assert last >= first + 29
    for tab in (fac, ann, ben):
        got = [f for f in await tab.catch_up(last) if f["type"] == "event"]
        assert [f["seq"] for f in got] == list(range(first, last + 1)), tab.name


async def test_the_copy_that_comes_back_on_the_layer_is_not_sent_twice() -> None:
    """The publishing process hands its own sockets the event at once; the
    same event arriving again through Redis is dropped, unless it is one the
    hub had given up waiting for."""
    import asyncio

    from facilitation.fanout import REORDER_SECONDS, RoomHub, deliver_here

    hub = RoomHub()
    from facilitation import fanout

    fanout._hubs[asyncio.get_running_loop()] = hub
    try:
        hub.rooms[7] = {tab := _Tab()}
        deliver_here(7, 4, "four")
        deliver_here(7, 6, "six")  # 5 lost on the way
        await asyncio.sleep(REORDER_SECONDS * 2)
        assert tab.offers == [(4, "four"), (6, "six")]
        hub._collect(7, 4, "four")  # the layer's copies
        hub._collect(7, 6, "six")
        hub._collect(7, 5, "five")  # late, but wanted
        await asyncio.sleep(0)
        assert tab.offers == [(4, "four"), (6, "six"), (5, "five")]
        deliver_here(8, 1, "a room nobody here is in")
        await asyncio.sleep(0)
        assert tab.offers[-1] == (5, "five")
    finally:
        fanout._hubs.pop(asyncio.get_running_loop(), None)


async def test_reactions_wait_briefly_for_company_and_anything_else_takes_them_along() -> (
    None
):
    import asyncio

    from facilitation.fanout import COALESCE_SECONDS, RoomHub

    hub = RoomHub()
    hub.rooms[7] = {tab := _Tab()}
    hub._collect(7, 1, "r1", "reaction")
    hub._collect(7, 2, "r2", "reaction")
    await asyncio.sleep(0)
    assert tab.runs == [] and tab.offers == []  # waiting for company
    await asyncio.sleep(COALESCE_SECONDS * 1.5)
    assert [[seq for seq, _ in run] for run, _ in tab.runs] == [[1, 2]]

    hub._collect(7, 3, "r3", "reaction")
    hub._collect(7, 4, "chat", "chat.message")  # not kept waiting
    await asyncio.sleep(0)
    assert [[seq for seq, _ in run] for run, _ in tab.runs] == [[1, 2], [3, 4]]
