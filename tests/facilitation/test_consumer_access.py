"""Losing access mid-session: removed from the group, leaving it, logging
out. The socket closes within two seconds and nothing more gets through."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from facilitation import events
from facilitation.models import CheckIn, FacilitatorAlert, RoomEvent
from groups.models import Membership
from groups.services import membership as membership_services
from tests.facilitation.conftest import login_session, seat
from tests.factories import MeetingFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def remove(group: Any, facilitator: Any, user: Any) -> None:
    membership = Membership.objects.get(group=group, user=user)
    membership_services.remove_member(
        group=group, by=facilitator, membership_id=membership.pk
    )


@database_sync_to_async
def log_out(session_key: str) -> int:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    return client.post(reverse("account_logout")).status_code


async def still_open(tab: Any) -> None:
    await tab.send({"type": "ping"})
    pong, _ = await tab.expect("pong")
    assert pong["type"] == "pong"


async def test_a_removed_member_is_closed_4403_within_two_seconds(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, group: Any
) -> None:
    fac, [tab] = await seat(sockets, meeting, facilitator, member)
    await remove(group, facilitator, member)
    assert await tab.closed(timeout=2) == 4403
    await still_open(fac)
    again = await sockets(member, meeting, expect_ok=False)
    assert again.closed_code == 4403


async def test_leaving_the_group_closes_the_room_socket(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, group: Any
) -> None:
    _, [tab] = await seat(sockets, meeting, facilitator, member)
    await database_sync_to_async(membership_services.leave_group)(
        group=group, user=member
    )
    assert await tab.closed(timeout=2) == 4403


async def test_removal_from_one_group_leaves_other_groups_rooms_open(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, group: Any
) -> None:
    elsewhere = await database_sync_to_async(MembershipFactory)(user=member)
    other_meeting = await database_sync_to_async(MeetingFactory)(group=elsewhere.group)
    _, [tab] = await seat(sockets, meeting, facilitator, member)
    other = await sockets(member, other_meeting)
    await other.join()
    await remove(group, facilitator, member)
    assert await tab.closed(timeout=2) == 4403
    await still_open(other)


async def test_logging_out_closes_that_sessions_sockets_4401_only(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    await seat(sockets, meeting, facilitator)
    first_key = await database_sync_to_async(login_session)(member)
    other_key = await database_sync_to_async(login_session)(member)
    tabs = [
        await sockets(member, meeting, session_key=first_key),
        await sockets(member, meeting, session_key=first_key),
    ]
    phone = await sockets(member, meeting, session_key=other_key)
    for tab in [*tabs, phone]:
        await tab.join()

    assert await log_out(first_key) in (200, 302)
    for tab in tabs:
        assert await tab.closed(timeout=2) == 4401
    await still_open(phone)
    gone = database_sync_to_async(Session.objects.filter(session_key=first_key).exists)
    assert not await gone()
    again = await sockets(member, meeting, session_key=first_key, expect_ok=False)
    assert again.closed_code == 4401


async def test_a_removed_member_whose_close_was_lost_cannot_chat(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    group: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The channel layer delivers at most once: if the close never arrives,
    the next chat message is still refused."""
    _, [tab] = await seat(sockets, meeting, facilitator, member)
    monkeypatch.setattr(events, "tell_user", lambda *a, **k: None)
    await remove(group, facilitator, member)
    before = await database_sync_to_async(RoomEvent.objects.count)()
    await tab.send({"type": "chat.send", "text": "still here?"})
    assert await tab.closed() == 4403
    assert await database_sync_to_async(RoomEvent.objects.count)() == before


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "reaction", "emoji": "heart"},
        {"type": "checkin", "phase": "in", "score": 3},
        {"type": "moment"},
    ],
    ids=["reaction", "checkin", "moment"],
)
async def test_a_removed_member_whose_close_was_lost_cannot_signal(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    group: Any,
    monkeypatch: pytest.MonkeyPatch,
    frame: dict[str, Any],
) -> None:
    _, [tab] = await seat(sockets, meeting, facilitator, member)
    monkeypatch.setattr(events, "tell_user", lambda *a, **k: None)
    await remove(group, facilitator, member)

    @database_sync_to_async
    def rows() -> tuple[int, int, int]:
        return (
            RoomEvent.objects.count(),
            CheckIn.objects.count(),
            FacilitatorAlert.objects.count(),
        )

    before = await rows()
    await tab.send(frame)
    reply, _ = await tab.expect(lambda f: f["type"] in ("ack", "websocket.close"))
    assert await rows() == before
    assert reply == {"type": "websocket.close", "code": 4403}


async def test_a_demoted_cofacilitator_stops_seeing_private_alerts(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    cofacilitator: Any,
    member: Any,
    group: Any,
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    co = await sockets(cofacilitator, meeting)
    assert "alerts" in await co.join()
    membership = await database_sync_to_async(Membership.objects.get)(
        group=group, user=cofacilitator
    )
    await database_sync_to_async(membership_services.change_role)(
        group=group, by=facilitator, membership_id=membership.pk, role="member"
    )
    await ann.ok({"type": "moment"})
    await fac.expect("alert")  # the facilitator is told
    seen = await co.drain()
    assert [f for f in seen if f["type"] in ("alert", "lobby")] == []
    snapshot = await co.join()
    assert "alerts" not in snapshot and "lobby" not in snapshot


async def test_a_demoted_cofacilitator_stays_in_the_room_as_a_member(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    cofacilitator: Any,
    group: Any,
) -> None:
    co = await sockets(cofacilitator, meeting)
    await co.join()
    fac, _ = await seat(sockets, meeting, facilitator)
    await co.ok({"type": "chat.send", "text": "I'm co-facilitating today."})
    membership = await database_sync_to_async(Membership.objects.get)(
        group=group, user=cofacilitator
    )
    await database_sync_to_async(membership_services.change_role)(
        group=group, by=facilitator, membership_id=membership.pk, role="member"
    )
    snapshot, _ = await co.expect("snapshot")
    assert snapshot["you"]["role"] == "member"
    if not snapshot["admitted"]:
        # At the least they must be somewhere a facilitator can let them in.
        assert snapshot["waiting"], snapshot
        await fac.ok({"type": "lobby.admit", "user_id": cofacilitator.pk})
        await co.expect("snapshot")
    await co.ok({"type": "chat.send", "text": "Now as a member."})


async def test_a_disabled_account_loses_its_open_sockets(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    _, [tab] = await seat(sockets, meeting, facilitator, member)
    member.is_active = False
    await database_sync_to_async(member.save)(update_fields=["is_active"])
    await tab.send({"type": "chat.send", "text": "am I still here?"})
    reply, _ = await tab.expect(
        lambda f: f["type"] in ("ack", "error", "websocket.close")
    )
    assert reply["type"] == "websocket.close"
    assert reply["code"] in (4401, 4403)
