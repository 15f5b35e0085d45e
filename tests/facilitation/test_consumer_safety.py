"""Safety over the socket: the crisis card comes back in the same round trip
even when Celery and the channel layer are down; held messages never reach
the group; moderation frames are for facilitators only."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from config.celery import app as celery_app
from facilitation.models import RoomEvent
from safety.models import HeldMessage, SafetyAlert

from .conftest import events_of, seat, stored_events

pytestmark = pytest.mark.django_db(transaction=True)

CONCERN = "I feel like such a burden and I don't see the point anymore"
IMMINENT = "I have the pills and I'm doing it tonight"


def start_outage(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on: no Celery broker, and a channel layer failing every send."""
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("channel layer down")

    from channels.layers import get_channel_layer

    monkeypatch.setattr(get_channel_layer(), "group_send", broken)


async def test_the_crisis_card_arrives_in_the_same_round_trip_during_an_outage(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from safety.seed import load_care_resources

    await database_sync_to_async(load_care_resources)()
    _, [tab] = await seat(sockets, meeting, facilitator, member)
    start_outage(monkeypatch)
    await tab.send({"type": "chat.send", "text": CONCERN, "client_msg_id": "c-1"})
    ack, _ = await tab.expect("ack")
    assert ack["status"] == "delivered" and ack["seq"]
    card = await tab.recv()
    assert card["type"] == "crisis_card"
    assert card["card"]["resources"], card
    # Stored despite the failed broadcast; the alert is recorded for the queue.
    kinds = [kind for _, kind, _ in await stored_events(meeting)]
    assert "chat.message" in kinds
    tiers = await database_sync_to_async(
        lambda: list(SafetyAlert.objects.values_list("tier", flat=True))
    )()
    assert tiers == ["concern"]


async def test_imminent_risk_is_held_and_never_reaches_the_group(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, member2: Any
) -> None:
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    before = len(await stored_events(meeting))
    await ann.send({"type": "chat.send", "text": IMMINENT, "client_msg_id": "i-1"})
    ack, _ = await ann.expect("ack")
    assert (ack["status"], ack["seq"]) == ("held", None)
    assert (await ann.recv())["type"] == "crisis_card"
    seen: dict[str, dict[str, Any]] = {}
    while len(seen) < 2:
        frame, _ = await fac.expect(lambda f: f["type"] in ("held", "safety_alert"))
        seen[frame["type"]] = frame
    held, alert = seen["held"], seen["safety_alert"]
    assert held["user_id"] == member.pk
    assert alert["tier"] == "imminent"
    assert "text" not in alert
    assert len(await stored_events(meeting)) == before
    got = await ben.drain(quiet=0.3)
    assert "pills" not in str(got)
    # The facilitator rejects it: the text is gone from the store too.
    await fac.ok({"type": "held.decide", "held_id": held["id"], "approve": False})
    text = await database_sync_to_async(
        lambda: HeldMessage.objects.get(pk=held["id"]).text
    )()
    assert text == ""


async def test_members_cannot_moderate(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, member2: Any
) -> None:
    fac, [ann, _] = await seat(sockets, meeting, facilitator, member, member2)
    seq = (await fac.ok({"type": "chat.send", "text": "welcome, everyone"}))["seq"]
    frames = [
        {"type": "message.hide", "seq": seq},
        {"type": "member.mute", "user_id": member2.pk, "minutes": 5},
        {"type": "member.remove", "user_id": member2.pk, "scope": "session"},
        {"type": "held.decide", "held_id": 1, "approve": True},
        {"type": "safety.ack", "alert_id": 1},
    ]
    for frame in frames:
        reply = await ann.error(frame)
        assert reply["code"] == "forbidden", (frame, reply)
    hidden = await database_sync_to_async(
        lambda: RoomEvent.objects.get(room__meeting=meeting, seq=seq).hidden
    )()
    assert not hidden


async def test_a_report_and_a_hide_reach_everyone_as_a_tombstone(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, member2: Any
) -> None:
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    seq = (await ben.ok({"type": "chat.send", "text": "something unkind"}))["seq"]
    await ann.ok({"type": "report", "seq": seq, "reason": "harassment"})
    await fac.ok({"type": "message.hide", "seq": seq})
    for tab in (fac, ann, ben):
        frame, _ = await tab.expect(lambda f: f.get("kind") == "message.hidden")
        assert frame["data"] == {"seq": seq}
    # History and resume carry a tombstone, never the text.
    snapshot = await ann.join()
    entry = next(e for e in snapshot["history"] if e["seq"] == seq)
    assert entry["data"].get("hidden") is True and "text" not in entry["data"]
    assert "unkind" not in str(events_of(snapshot["history"]))


async def test_a_member_removed_from_the_session_is_closed_and_kept_out(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    await fac.ok({"type": "member.remove", "user_id": member.pk, "scope": "session"})
    assert await ann.closed() == 4403
    again = await sockets(member, meeting, expect_ok=False)
    assert (again.open, again.closed_code) == (False, 4403)
