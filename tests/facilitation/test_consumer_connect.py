"""Who may open a room socket, through the real ASGI stack (origin check,
session cookie, auth), and what arriving and leaving record."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from config.routing import LoggingOriginValidator
from facilitation.models import Attendance, LiveRoom, RoomConnection, RoomEvent
from tests.facilitation.conftest import (
    ORIGIN,
    events_of,
    login_session,
    seat,
    stored_events,
)
from tests.factories import MeetingFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def counts() -> tuple[int, int, int]:
    return (
        LiveRoom.objects.count(),
        RoomEvent.objects.count(),
        RoomConnection.objects.count(),
    )


def test_the_test_origin_is_on_the_allowlist() -> None:
    assert ORIGIN in settings.TRUSTED_ORIGINS


async def test_without_a_session_the_socket_is_refused_4401(
    sockets: Any, meeting: Any, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="hearth.room")
    tab = await sockets(None, meeting, expect_ok=False)
    assert tab.closed_code == 4401
    assert "reason=anonymous" in caplog.text
    assert await counts() == (0, 0, 0)


async def test_a_made_up_session_cookie_is_refused_4401(
    sockets: Any, meeting: Any
) -> None:
    tab = await sockets(None, meeting, session_key="x" * 32, expect_ok=False)
    assert tab.closed_code == 4401


async def test_credentials_in_the_query_string_are_not_read(
    sockets: Any, meeting: Any, member: Any
) -> None:
    key = await database_sync_to_async(login_session)(member)
    path = f"/ws/sessions/{meeting.pk}/?sessionid={key}&token={key}"
    tab = await sockets(None, meeting, path=path, expect_ok=False)
    assert tab.closed_code == 4401


async def test_a_stranger_is_refused_4403(
    sockets: Any, meeting: Any, stranger: Any, caplog: Any
) -> None:
    caplog.set_level(logging.INFO, logger="hearth.room")
    tab = await sockets(stranger, meeting, expect_ok=False)
    assert tab.closed_code == 4403
    assert "reason=not_member" in caplog.text
    assert await counts() == (0, 0, 0)


async def test_a_member_of_another_group_is_refused_4403(
    sockets: Any, meeting: Any
) -> None:
    other = await database_sync_to_async(MembershipFactory)(role="facilitator")
    tab = await sockets(other.user, meeting, expect_ok=False)
    assert tab.closed_code == 4403


async def test_a_missing_session_looks_like_a_forbidden_one(
    sockets: Any, meeting: Any, stranger: Any
) -> None:
    forbidden = await sockets(stranger, meeting, expect_ok=False)
    missing = await sockets(
        stranger, meeting, path="/ws/sessions/987654321/", expect_ok=False
    )
    assert forbidden.closed_code == missing.closed_code == 4403
    assert await counts() == (0, 0, 0)


async def test_an_archived_group_has_no_room(
    sockets: Any, meeting: Any, member: Any, group: Any
) -> None:
    group.archived_at = timezone.now()
    await database_sync_to_async(group.save)()
    tab = await sockets(member, meeting, expect_ok=False)
    assert tab.closed_code == 4403


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        None,
        "null",
        "http://127.0.0.1",
        "http://127.0.0.1:80",
        "http://127.0.0.1:8001",
        "https://127.0.0.1:8000",
        "http://127.0.0.1.evil.net:8000",
        "http://evil.net:8000",
    ],
)
async def test_an_origin_off_the_allowlist_is_refused(
    sockets: Any, meeting: Any, member: Any, origin: str | None, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="hearth.security")
    tab = await sockets(member, meeting, origin=origin, expect_ok=False)
    assert tab.closed_code is not None
    assert "reason=origin" in caplog.text
    assert await counts() == (0, 0, 0)


async def test_a_look_alike_origin_with_a_bad_port_is_refused_cleanly(
    sockets: Any, meeting: Any, member: Any, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING, logger="hearth.security")
    tab = await sockets(
        member,
        meeting,
        origin="http://127.0.0.1:8000.evil.net",
        expect_ok=False,
        timeout=0.5,
    )
    assert tab.closed_code is not None
    assert "reason=origin" in caplog.text


async def test_the_validator_pins_the_scheme() -> None:
    """An https allowlist refuses the same host over http (a downgrade)."""
    reached = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(scope)
        await send({"type": "websocket.accept"})

    from channels.testing import WebsocketCommunicator

    validator = LoggingOriginValidator(app, ["https://app.example.com"])
    for origin, allowed in [
        ("http://app.example.com", False),
        ("https://app.example.com.evil.net", False),
        ("https://uploads.example.com", False),
        ("https://app.example.com", True),
        ("https://app.example.com:443", True),
    ]:
        comm = WebsocketCommunicator(
            validator, "/ws/", headers=[(b"origin", origin.encode())]
        )
        ok, _ = await comm.connect()
        assert ok is allowed, origin
        await comm.disconnect()
    assert len(reached) == 2


async def test_a_sixth_socket_is_refused_4429(
    sockets: Any, meeting: Any, member: Any
) -> None:
    for _ in range(settings.HEARTH["MAX_ROOM_CONNECTIONS"]):
        await sockets(member, meeting)
    sixth = await sockets(member, meeting, expect_ok=False)
    assert sixth.closed_code == 4429
    assert (await counts())[2] == 5


async def test_a_refused_sixth_socket_leaves_no_trace_in_another_room(
    sockets: Any, meeting: Any, facilitator: Any, group: Any
) -> None:
    other = await database_sync_to_async(MeetingFactory)(group=group)
    for _ in range(5):
        await sockets(facilitator, other)
    before = await stored_events(meeting)
    sixth = await sockets(facilitator, meeting, expect_ok=False)
    assert sixth.closed_code == 4429
    await sixth.disconnect()  # as a real server does after a refusal
    assert await stored_events(meeting) == before


async def test_presence_joined_once_per_person_and_left_with_the_last_tab(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [first] = await seat(sockets, meeting, facilitator, member)
    second = await sockets(member, meeting)
    await second.join()
    assert events_of(await fac.drain(), "presence.joined") == []

    await first.disconnect()
    assert events_of(await fac.drain(), "presence.left") == []
    await second.disconnect()
    left, _ = await fac.expect(lambda f: f.get("kind") == "presence.left")
    assert left["data"] == {"user_id": member.pk}


async def test_a_socket_back_within_the_grace_period_never_left(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, settings: Any
) -> None:
    """A dropped network is not news: no "left" then "joined" for the room
    when the person is back in time, and a real "left" once the grace is
    over."""
    settings.HEARTH = {**settings.HEARTH, "PRESENCE_GRACE_SECONDS": 0.5}
    fac, [tab] = await seat(sockets, meeting, facilitator, member)
    await tab.disconnect()
    back = await sockets(member, meeting)
    await back.join()
    await asyncio.sleep(0.8)  # past the grace period of the first socket
    seen = await fac.drain()
    assert events_of(seen, "presence.left") == []
    assert events_of(seen, "presence.joined") == []
    stay = await database_sync_to_async(Attendance.objects.get)(
        room__meeting=meeting, user=member
    )
    assert stay.present_since is not None

    await back.disconnect()
    assert events_of(await fac.drain(quiet=0.2), "presence.left") == []
    left, _ = await fac.expect(lambda f: f.get("kind") == "presence.left")
    assert left["data"] == {"user_id": member.pk}
    stay = await database_sync_to_async(Attendance.objects.get)(
        room__meeting=meeting, user=member
    )
    assert stay.present_since is None


async def test_presence_joined_carries_the_group_name_and_role(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    tab = await sockets(member, meeting)
    await tab.join()
    joined, _ = await fac.expect(lambda f: f.get("kind") == "presence.joined")
    assert joined["data"] == {
        "user_id": member.pk,
        "name": member.display_name,
        "role": "member",
    }
    snapshot = await fac.join()
    assert set(snapshot["present"]) == {facilitator.pk, member.pk}


async def test_attendance_counts_the_seconds_present(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    _, [tab] = await seat(sockets, meeting, facilitator, member)

    @database_sync_to_async
    def arrived_five_seconds_ago() -> None:
        Attendance.objects.filter(user=member).update(
            present_since=timezone.now() - dt.timedelta(seconds=5)
        )

    await arrived_five_seconds_ago()
    await tab.disconnect()
    record = await database_sync_to_async(Attendance.objects.get)(user=member)
    assert 5 <= record.seconds <= 7
    assert record.present_since is None
    assert record.first_joined_at <= record.last_left_at


async def test_nobody_waiting_in_the_lobby_counts_as_present(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac = await sockets(facilitator, meeting)
    await fac.join()
    await fac.ok({"type": "room.open"})
    tab = await sockets(member, meeting)
    snapshot = await tab.join()
    assert (snapshot["admitted"], snapshot["waiting"]) == (False, True)
    assert "history" not in snapshot and "state" not in snapshot
    assert not any(
        k == "presence.joined" and d["user_id"] == member.pk
        for _, k, d in await stored_events(meeting)
    )
    exists = database_sync_to_async(Attendance.objects.filter(user=member).exists)
    assert not await exists()


@database_sync_to_async
def age_connections(user: Any, seconds: int) -> int:
    then = timezone.now() - dt.timedelta(seconds=seconds)
    return RoomConnection.objects.filter(user=user).update(last_seen=then)


async def test_sockets_of_a_dead_server_stop_counting_after_the_ttl(
    sockets: Any, meeting: Any, member: Any, facilitator: Any
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator, member)
    for _ in range(4):
        await sockets(member, meeting)
    ttl = settings.HEARTH["PRESENCE_TTL_SECONDS"]
    assert await age_connections(member, ttl + 5) == 5
    assert member.pk not in (await fac.join())["present"]
    sixth = await sockets(member, meeting)  # the stale five do not count
    assert sixth.open


async def test_ping_keeps_a_socket_present(
    sockets: Any, meeting: Any, member: Any, facilitator: Any
) -> None:
    fac, [tab] = await seat(sockets, meeting, facilitator, member)
    ttl = settings.HEARTH["PRESENCE_TTL_SECONDS"]
    await age_connections(member, ttl - 5)
    await tab.send({"type": "ping"})
    pong = await tab.recv()
    # The pong names the room's latest seq: a lost final broadcast shows.
    assert pong == {"type": "pong", "seq": tab.last_seq}
    row = await database_sync_to_async(RoomConnection.objects.get)(user=member)
    assert (timezone.now() - row.last_seen).total_seconds() < 5
    assert member.pk in (await fac.join())["present"]


async def test_a_new_group_name_shows_in_the_next_snapshot(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    """Snapshots list people from a brief memo; a change of name starts it
    afresh, so nobody sees an old name after a rejoin."""
    _, [tab] = await seat(sockets, meeting, facilitator, member)
    first = await tab.join()
    assert first["people"][str(member.pk)]["name"] != "Willow at dusk"

    def rename() -> None:
        from groups.models import Membership

        row = Membership.objects.get(user=member, group=meeting.group)
        row.display_name = "Willow at dusk"
        row.save()

    await database_sync_to_async(rename)()
    again = await tab.join()
    assert again["people"][str(member.pk)]["name"] == "Willow at dusk"
