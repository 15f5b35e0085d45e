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
