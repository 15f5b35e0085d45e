"""Private threads in the room: a facilitator checks in with one member.

Only that member and the group's facilitators ever get a frame of it;
standing is re-checked on every command and every delivery; its lines are
screened like chat; it survives a reconnect (docs/protocol.md)."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async

from facilitation import events
from facilitation.models import PrivateThread, ThreadMessage
from groups.models import Membership
from groups.services import membership as membership_services
from safety.models import HeldMessage, SafetyAlert
from tests.factories import MeetingFactory, MembershipFactory

from .conftest import seat

pytestmark = pytest.mark.django_db(transaction=True)

CONCERN = "I feel like such a burden and I don't see the point anymore"
IMMINENT = "I have the pills and I'm doing it tonight"
METHOD = "What is the most painless way to die"
CHECK_IN = "Hi Ann, just checking in. How are you doing right now?"


def is_thread(frame: dict[str, Any]) -> bool:
    """A frame that shows a thread, or carries threads (snapshot, resumed)."""
    return "threads" in frame or str(frame.get("type", "")).startswith("thread")


async def open_thread(fac: Any, member_id: int, *watchers: Any) -> int:
    """Open a thread; every watcher (member or facilitator) gets its state."""
    ack = await fac.ok({"type": "thread.open", "user_id": member_id})
    for tab in watchers:
        frame, _ = await tab.expect("thread")
        assert frame["thread"]["id"] == ack["thread_id"]
        assert frame["thread"]["member_id"] == member_id
    return int(ack["thread_id"])


async def say(tab: Any, thread_id: int, text: str, ref: str = "") -> dict[str, Any]:
    frame: dict[str, Any] = {"type": "thread.send", "thread_id": thread_id}
    frame["text"] = text
    if ref:
        frame["client_msg_id"] = ref
    return await tab.ok(frame)


async def line_arrives(tab: Any, text: str) -> dict[str, Any]:
    """The line as passed on (a sender's other tabs get their own lines too)."""
    frame, _ = await tab.expect(
        lambda f: f["type"] == "thread.message" and f["message"]["text"] == text
    )
    return frame


async def cofac_tab(sockets: Any, meeting: Any, cofacilitator: Any) -> Any:
    co = await sockets(cofacilitator, meeting, name="cofacilitator")
    await co.join()
    await co.drain()
    return co


@database_sync_to_async
def demote(group: Any, by: Any, user: Any) -> None:
    membership = Membership.objects.get(group=group, user=user)
    membership_services.change_role(
        group=group, by=by, membership_id=membership.pk, role="member"
    )


@database_sync_to_async
def remove(group: Any, by: Any, user: Any) -> None:
    membership = Membership.objects.get(group=group, user=user)
    membership_services.remove_member(group=group, by=by, membership_id=membership.pk)


@database_sync_to_async
def stored_lines() -> list[str]:
    return list(ThreadMessage.objects.values_list("text", flat=True))


async def test_only_the_member_and_the_facilitators_see_a_thread(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    cofacilitator: Any,
    member: Any,
    member2: Any,
) -> None:
    """The member and every facilitator get it; another member gets no
    frame of it, not even that it exists."""
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    co = await cofac_tab(sockets, meeting, cofacilitator)
    thread_id = await open_thread(fac, member.pk, ann, co)
    await say(fac, thread_id, CHECK_IN)
    for tab in (ann, co):
        got = await line_arrives(tab, CHECK_IN)
        assert got["message"]["user_id"] == facilitator.pk
        assert got["message"]["role"] == "facilitator"
    reply = await say(ann, thread_id, "Thanks, it's a hard day.")
    assert reply["status"] == "delivered" and reply["message_id"]
    for tab in (fac, co):
        await line_arrives(tab, "Thanks, it's a hard day.")
    seen = await ben.drain(quiet=0.3)
    assert [f for f in seen if is_thread(f)] == []
    assert "checking in" not in str(seen) and "hard day" not in str(seen)
    # Not in the public log either.
    snapshot = await ben.join()
    assert "threads" not in snapshot and "checking in" not in str(snapshot)
    assert [f for f in await ben.drain() if is_thread(f)] == []


async def test_another_member_cannot_read_write_close_or_open_a_thread(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, member2: Any
) -> None:
    """A-13 for threads: a member's thread.open is forbidden; A-08: someone
    else's thread answers exactly like one that does not exist."""
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    thread_id = await open_thread(fac, member.pk, ann)
    for frame in (
        {"type": "thread.send", "thread_id": thread_id, "text": "hello?"},
        {"type": "thread.close", "thread_id": thread_id},
    ):
        error = await ben.error(frame)
        assert error["code"] == "not_found", error
    # The same answer as for a thread that does not exist.
    missing = await ben.error({"type": "thread.close", "thread_id": thread_id + 99})
    assert missing["code"] == "not_found"
    forbidden = await ben.error({"type": "thread.open", "user_id": member.pk})
    assert forbidden["code"] == "forbidden"
    assert await stored_lines() == []
    open_now = await database_sync_to_async(
        PrivateThread.objects.filter(closed_at__isnull=True).count
    )()
    assert open_now == 1


async def test_someone_from_another_group_cannot_reach_a_thread(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, stranger: Any
) -> None:
    """A-07: a non-member cannot join the room; A-14: from their own group's
    room the thread's id gets the same not_found as any unknown id."""
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    thread_id = await open_thread(fac, member.pk, ann)
    refused = await sockets(stranger, meeting, expect_ok=False)
    assert (refused.open, refused.closed_code) == (False, 4403)
    other = await database_sync_to_async(MeetingFactory)()
    await database_sync_to_async(MembershipFactory)(
        group=other.group, user=stranger, role="facilitator"
    )
    own = await sockets(stranger, other)
    await own.join()
    for frame in (
        {"type": "thread.send", "thread_id": thread_id, "text": "hi"},
        {"type": "thread.close", "thread_id": thread_id},
    ):
        assert (await own.error(frame))["code"] == "not_found"
    opened = await own.error({"type": "thread.open", "user_id": member.pk})
    assert opened["code"] == "not_found"
    assert await stored_lines() == []


async def test_a_removed_member_loses_the_thread_at_once(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    group: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A-09, even when the close never reaches the socket: the next thread
    command closes it, nothing is stored, and no later line is passed on."""
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    thread_id = await open_thread(fac, member.pk, ann)
    monkeypatch.setattr(events, "tell_user", lambda *a, **k: None)
    await remove(group, facilitator, member)
    await ann.send({"type": "thread.send", "thread_id": thread_id, "text": "hi"})
    assert await ann.closed() == 4403
    error = await fac.error(
        {"type": "thread.send", "thread_id": thread_id, "text": "Still there?"}
    )
    assert error["code"] == "not_found"
    assert await stored_lines() == []


async def test_a_demoted_cofacilitator_loses_the_thread_at_once(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    cofacilitator: Any,
    member: Any,
    group: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Demoted, with the role change lost on the way: no thread frame
    reaches them, their commands get not_found, a rejoin shows nothing."""
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    co = await cofac_tab(sockets, meeting, cofacilitator)
    thread_id = await open_thread(fac, member.pk, ann, co)
    monkeypatch.setattr(events, "tell_user", lambda *a, **k: None)
    await demote(group, facilitator, cofacilitator)
    await say(fac, thread_id, CHECK_IN)
    await line_arrives(ann, CHECK_IN)
    seen = await co.drain(quiet=0.3)
    assert [f for f in seen if is_thread(f)] == []
    for frame in (
        {"type": "thread.send", "thread_id": thread_id, "text": "I'll take it"},
        {"type": "thread.close", "thread_id": thread_id},
        {"type": "thread.open", "user_id": member.pk},
    ):
        error = await co.error(frame)
        assert error["code"] in ("not_found", "forbidden"), error
    assert "threads" not in await co.join()
    assert [f for f in await co.drain() if is_thread(f)] == []
    assert await stored_lines() == [CHECK_IN]


async def test_a_cofacilitator_takes_over_and_the_member_answers(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    cofacilitator: Any,
    member: Any,
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    co = await cofac_tab(sockets, meeting, cofacilitator)
    thread_id = await open_thread(fac, member.pk, ann, co)
    # Opening again (from the co-facilitator) finds the same thread.
    again = await co.ok({"type": "thread.open", "user_id": member.pk})
    assert again["thread_id"] == thread_id
    await say(co, thread_id, "I'm here with you now.")
    got = await line_arrives(ann, "I'm here with you now.")
    assert got["message"]["role"] == "cofacilitator"
    await line_arrives(fac, "I'm here with you now.")
    await say(ann, thread_id, "thank you")
    for tab in (fac, co):
        await line_arrives(tab, "thank you")


async def test_the_member_closes_the_thread(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    thread_id = await open_thread(fac, member.pk, ann)
    await ann.ok({"type": "thread.close", "thread_id": thread_id})
    closed, _ = await fac.expect("thread.closed")
    assert closed == {"type": "thread.closed", "thread_id": thread_id, "by": "member"}
    error = await fac.error(
        {"type": "thread.send", "thread_id": thread_id, "text": "wait"}
    )
    assert error["code"] == "thread_closed"
    # Closing again is fine; a facilitator may open a new one later.
    await ann.ok({"type": "thread.close", "thread_id": thread_id})
    fresh = await open_thread(fac, member.pk, ann)
    assert fresh != thread_id


async def test_a_facilitator_may_close_it_too(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    thread_id = await open_thread(fac, member.pk, ann)
    await fac.ok({"type": "thread.close", "thread_id": thread_id})
    closed, _ = await ann.expect("thread.closed")
    assert closed["by"] == "facilitator"


async def test_a_crisis_line_in_a_thread_gives_the_card_and_alerts(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    """M-01 in a thread: delivered (the group's policy), card to the sender
    in the same round trip, a normal alert for the facilitators."""
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    thread_id = await open_thread(fac, member.pk, ann)
    reply = await say(ann, thread_id, CONCERN)
    assert reply["status"] == "delivered"
    card = await ann.recv()
    assert card["type"] == "crisis_card"
    alert, _ = await fac.expect("safety_alert")
    assert alert["tier"] == "concern" and alert["user_id"] == member.pk
    assert "text" not in alert
    await line_arrives(fac, CONCERN)
    source = await database_sync_to_async(
        lambda: SafetyAlert.objects.get(pk=alert["id"]).source
    )()
    assert source == "thread"


@pytest.mark.parametrize("text", [IMMINENT, METHOD], ids=["imminent", "method"])
async def test_a_held_thread_line_is_not_shown_to_the_other_side(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, text: str
) -> None:
    """Held (M-02, M-03): the sender gets the card, facilitators the alert
    (tiers, never text); the line is passed on to nobody and kept nowhere,
    not even in the moderation queue."""
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    thread_id = await open_thread(fac, member.pk, ann)
    reply = await say(ann, thread_id, text, ref="h-1")
    assert (reply["status"], reply["message_id"]) == ("held", None)
    assert "not passed on" in reply["notice"]
    card = await ann.recv()
    assert card["type"] == "crisis_card" and card["card"]["resources"] is not None
    assert card["card"]["notice"] == (
        "This message was not passed on in your private conversation. "
        "The group's facilitators have been told."
    )
    alert, _ = await fac.expect("safety_alert")
    assert alert["tier"] in ("imminent", "method") and alert["held_id"] is None
    seen = await fac.drain(quiet=0.3)
    assert [f for f in seen if f["type"] in ("thread.message", "held")] == []
    assert text not in str(seen)
    assert await stored_lines() == []
    assert await database_sync_to_async(HeldMessage.objects.count)() == 0


async def test_thread_lines_keep_chat_length_limits(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, settings: Any
) -> None:
    """I-10: over the chat's character cap, too_long; nothing stored."""
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    thread_id = await open_thread(fac, member.pk, ann)
    limit = settings.HEARTH["CHAT_MAX_CHARS"]
    frame = {"type": "thread.send", "thread_id": thread_id, "text": "a" * (limit + 1)}
    assert (await ann.error(frame))["code"] == "too_long"
    empty = {"type": "thread.send", "thread_id": thread_id, "text": "   "}
    assert (await ann.error(empty))["code"] == "empty"
    assert await stored_lines() == []


async def test_thread_lines_count_against_the_chat_rate_limit(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    settings: Any,
    frozen_ratelimit: list[float],
) -> None:
    """L-01: the same counter as chat, so a thread is no way around it."""
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    thread_id = await open_thread(fac, member.pk, ann)
    burst = settings.HEARTH["CHAT_BURST"]
    for n in range(burst):
        await ann.ok({"type": "chat.send", "text": f"line {n}"})
    error = await ann.error(
        {"type": "thread.send", "thread_id": thread_id, "text": "one more"}
    )
    assert error["code"] == "rate_limited" and error["retry_after"] > 0
    assert await stored_lines() == []


async def test_a_reconnect_gets_the_open_thread_back(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    cofacilitator: Any,
    member: Any,
    member2: Any,
) -> None:
    """R-04 for threads (they are outside the seq log): from the database, to
    the right people only: a new tab of the member, a facilitator who
    arrives later; another member's new tab gets nothing."""
    fac, [ann, _] = await seat(sockets, meeting, facilitator, member, member2)
    thread_id = await open_thread(fac, member.pk, ann)
    await say(fac, thread_id, CHECK_IN)
    await line_arrives(ann, CHECK_IN)
    await say(ann, thread_id, "better now")
    await ann.disconnect()
    back = await sockets(member, meeting, name="member again")
    snapshot = await back.join()
    assert snapshot["admitted"]
    [thread] = snapshot["threads"]
    assert thread["id"] == thread_id and thread["open"]
    assert [m["text"] for m in thread["messages"]] == [CHECK_IN, "better now"]
    # Resuming by seq brings the thread again too (it is outside the log).
    await back.send({"type": "resume", "after_seq": snapshot["seq"]})
    again, _ = await back.expect("resumed")
    assert [t["id"] for t in again["threads"]] == [thread_id]
    co = await sockets(cofacilitator, meeting)
    later = await co.join()
    assert [t["member_id"] for t in later["threads"]] == [member.pk]
    ben_again = await sockets(member2, meeting)
    other = await ben_again.join()
    assert "threads" not in other
    assert "better now" not in str(await ben_again.drain(quiet=0.3))


async def test_a_closed_thread_is_not_sent_on_reconnect(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    thread_id = await open_thread(fac, member.pk, ann)
    await ann.ok({"type": "thread.close", "thread_id": thread_id})
    back = await sockets(member, meeting)
    assert "threads" not in await back.join()
    assert [f for f in await back.drain(quiet=0.3) if is_thread(f)] == []


async def test_only_members_of_the_group_can_be_reached(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    cofacilitator: Any,
    stranger: Any,
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    for user_id in (stranger.pk, cofacilitator.pk, facilitator.pk, 10**9):
        error = await fac.error({"type": "thread.open", "user_id": user_id})
        assert error["code"] == "not_found", (user_id, error)
