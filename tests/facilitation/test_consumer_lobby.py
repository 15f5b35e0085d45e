"""Opening the room, the lobby, admission, the lifecycle over the socket,
and facilitator actions refused to members."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from facilitation.models import RoomEvent
from tests.facilitation.conftest import events_of, room_state, seat, stored_events

pytestmark = pytest.mark.django_db(transaction=True)

FACILITATOR_FRAMES = [
    {"type": "room.open"},
    {"type": "room.start"},
    {"type": "room.pause"},
    {"type": "room.resume"},
    {"type": "room.end"},
    {"type": "room.lock", "on": True},
    {"type": "room.auto_admit", "on": False},
    {"type": "lobby.admit", "user_id": 1},
    {"type": "queue.next"},
    {"type": "queue.skip", "user_id": 1},
    {"type": "queue.reorder", "order": []},
    {"type": "queue.clear"},
    {"type": "timer.set", "seconds": 60},
    {"type": "pin.set", "text": "Members can't pin."},
    {"type": "alert.ack", "alert_id": 1},
]


async def opened(sockets: Any, meeting: Any, facilitator: Any) -> Any:
    fac = await sockets(facilitator, meeting, name="facilitator")
    await fac.join()
    await fac.ok({"type": "room.open"})
    await fac.drain(quiet=0.1)
    return fac


async def test_every_frame_but_join_resume_and_ping_waits_for_join(
    sockets: Any, meeting: Any, facilitator: Any
) -> None:
    tab = await sockets(facilitator, meeting)
    for frame in [
        {"type": "chat.send", "text": "hi", "client_msg_id": "m1"},
        {"type": "room.open"},
        {"type": "moment"},
    ]:
        reply = await tab.error(frame)
        assert reply["code"] == "join_first"
        assert reply["for"] == frame["type"]
    await tab.send({"type": "ping"})
    assert (await tab.recv())["type"] == "pong"
    assert [k for _, k, _ in await stored_events(meeting)] == ["presence.joined"]


async def test_the_server_says_nothing_before_the_first_frame(
    sockets: Any, meeting: Any, facilitator: Any
) -> None:
    tab = await sockets(facilitator, meeting)
    assert await tab.nothing()


async def test_a_member_waits_in_the_lobby_until_admitted(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac = await opened(sockets, meeting, facilitator)
    tab = await sockets(member, meeting, name="member")
    waiting = await tab.join()
    assert (waiting["admitted"], waiting["waiting"]) == (False, True)
    assert waiting["you"] == {
        "user_id": member.pk,
        "name": member.display_name,
        "role": "member",
    }
    for private in ("state", "history", "people", "present", "lobby", "alerts"):
        assert private not in waiting
    lobby, _ = await fac.expect("lobby")
    assert lobby["lobby"] == [{"user_id": member.pk, "name": member.display_name}]

    for frame in [
        {"type": "chat.send", "text": "let me in"},
        {"type": "reaction", "emoji": "heart"},
        {"type": "checkin", "phase": "in", "score": 4},
        {"type": "moment"},
    ]:
        assert (await tab.error(frame))["code"] == "not_admitted"
    fac_frames = await fac.drain()
    assert events_of(fac_frames) == []
    assert [f for f in fac_frames if f["type"] == "alert"] == []

    ack = await fac.ok({"type": "lobby.admit", "user_id": member.pk})
    admitted, _ = await tab.expect("snapshot")
    assert admitted["admitted"] is True and admitted["waiting"] is False
    assert admitted["state"]["status"] == "open"
    assert admitted["seq"] >= ack["seq"]
    assert "lobby" not in admitted and "alerts" not in admitted

    seen = await fac.drain()
    assert [e["kind"] for e in events_of(seen)] == [
        "member.admitted",
        "presence.joined",
    ]
    assert events_of(seen)[0]["seq"] == ack["seq"]
    assert events_of(seen)[0]["data"] == {"user_id": member.pk}
    assert {"type": "lobby", "lobby": []} in seen
    await tab.ok({"type": "chat.send", "text": "thank you"})


async def test_someone_in_the_lobby_cannot_raise_a_hand(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac = await opened(sockets, meeting, facilitator)
    await fac.ok({"type": "room.start"})
    tab = await sockets(member, meeting)
    assert (await tab.join())["waiting"]
    reply = await tab.error({"type": "hand.raise"})
    assert reply["code"] == "not_admitted"
    assert (await room_state(meeting))["queue"] == []


async def test_members_connected_before_opening_get_the_lobby_on_open(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac = await sockets(facilitator, meeting)
    await fac.join()
    tab = await sockets(member, meeting)
    early = await tab.join()
    assert (early["status"], early["admitted"], early["waiting"]) == (
        "scheduled",
        False,
        False,
    )
    await fac.ok({"type": "room.open"})
    fresh, _ = await tab.expect("snapshot")
    assert (fresh["status"], fresh["waiting"]) == ("open", True)
    lobby, _ = await fac.expect("lobby")
    assert [p["user_id"] for p in lobby["lobby"]] == [member.pk]


async def test_auto_admit_lets_the_waiting_in_and_the_next_ones_too(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, member2: Any
) -> None:
    fac = await opened(sockets, meeting, facilitator)
    first = await sockets(member, meeting)
    assert (await first.join())["waiting"]
    ack = await fac.ok({"type": "room.auto_admit", "on": True})
    snapshot, _ = await first.expect("snapshot")
    assert snapshot["admitted"] is True
    event, _ = await fac.expect(lambda f: f.get("seq") == ack["seq"])
    assert (event["kind"], event["data"]) == (
        "room.auto_admit",
        {"on": True, "admitted": [member.pk]},
    )
    second = await sockets(member2, meeting)
    assert (await second.join())["admitted"] is True
    assert (await fac.join())["auto_admit"] is True


async def test_a_returning_member_walks_straight_back_in(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac = await opened(sockets, meeting, facilitator)
    tab = await sockets(member, meeting)
    await tab.join()
    await fac.ok({"type": "lobby.admit", "user_id": member.pk})
    await tab.expect("snapshot")
    await tab.disconnect()
    back = await sockets(member, meeting)
    assert (await back.join())["admitted"] is True


async def test_admitting_someone_not_waiting_is_refused(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac = await opened(sockets, meeting, facilitator)
    reply = await fac.error({"type": "lobby.admit", "user_id": member.pk})
    assert reply["code"] == "not_waiting"


async def test_a_member_is_forbidden_every_facilitator_action(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [tab] = await seat(sockets, meeting, facilitator, member)
    before_state = await room_state(meeting)
    count = database_sync_to_async(RoomEvent.objects.count)
    before_rows = await count()
    for frame in FACILITATOR_FRAMES:
        reply = await tab.error({**frame, "client_msg_id": "try-1"})
        assert (reply["code"], reply["for"]) == ("forbidden", frame["type"])
        assert reply["client_msg_id"] == "try-1"
        assert await room_state(meeting) == before_state, frame
        assert await count() == before_rows, frame
    await tab.send({"type": "ping"})
    assert (await tab.recv())["type"] == "pong"  # the socket is kept
    assert events_of(await fac.drain()) == []


async def test_a_member_is_forbidden_to_show_a_prompt(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    _, [tab] = await seat(sockets, meeting, facilitator, member)
    reply = await tab.error({"type": "prompt.show", "index": 0})
    assert reply["code"] == "forbidden"


async def test_the_lifecycle_over_the_socket(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [tab] = await seat(sockets, meeting, facilitator, member)
    assert (await fac.error({"type": "room.start"}))["code"] == "bad_state"
    assert (await fac.error({"type": "room.resume"}))["code"] == "bad_state"
    for action, status in [
        ("room.pause", "paused"),
        ("room.resume", "live"),
        ("room.end", "ended"),
    ]:
        ack = await fac.ok({"type": action})
        event, _ = await tab.expect("event")
        assert event["seq"] == ack["seq"]
        assert (event["kind"], event["data"]["status"]) == ("room.status", status)
    for frame in [
        {"type": "chat.send", "text": "still there?"},
        {"type": "hand.raise"},
        {"type": "pass"},
        {"type": "reaction", "emoji": "heart"},
    ]:
        assert (await tab.error(frame))["code"] == "room_closed"
    assert (await fac.error({"type": "room.open"}))["code"] == "room_closed"
