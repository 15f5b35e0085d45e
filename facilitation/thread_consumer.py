"""The room consumer's private-thread frames (docs/protocol.md, "Private
threads"), kept apart from consumers.py: handlers for the three commands,
the thread state sent on (re)join, and delivery of live thread frames."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from channels.db import DatabaseSyncToAsync

from . import protocol
from .services import threads

if TYPE_CHECKING:
    from .consumers import RoomConsumer


def _db(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    # As consumers.database_sync_to_async: sockets' calls may run side by side.
    return DatabaseSyncToAsync(func, thread_sensitive=False)


def _ack(frame: protocol.Frame, **fields: Any) -> dict[str, Any]:
    reply: dict[str, Any] = {"type": "ack", "for": frame.type, "seq": None}
    if frame.ref:
        reply["client_msg_id"] = frame.ref
    reply.update(fields)
    return reply


async def on_open(consumer: RoomConsumer, frame: protocol.Frame) -> None:
    thread_id = await _db(threads.open_thread)(
        who=consumer.who, user_id=frame.fields["user_id"]
    )
    await consumer.send_frame(_ack(frame, thread_id=thread_id))


async def on_send(consumer: RoomConsumer, frame: protocol.Frame) -> None:
    sent = await _db(threads.send_to_thread)(
        who=consumer.who,
        thread_id=frame.fields["thread_id"],
        text=frame.fields["text"],
        client_msg_id=frame.ref,
    )
    extra: dict[str, Any] = {
        "thread_id": sent.thread_id,
        "message_id": sent.message_id,
        "status": sent.status,
    }
    if sent.notice:
        extra["notice"] = sent.notice
    await consumer.send_frame(_ack(frame, **extra))
    # Private to the sender, in the same round trip (as for chat).
    if sent.card:
        await consumer.send_frame({"type": "crisis_card", "card": sent.card})


async def on_close(consumer: RoomConsumer, frame: protocol.Frame) -> None:
    await _db(threads.close_thread)(
        who=consumer.who, thread_id=frame.fields["thread_id"]
    )
    await consumer.send_frame(_ack(frame, thread_id=frame.fields["thread_id"]))


async def add_state(consumer: RoomConsumer, frame: dict[str, Any]) -> None:
    """Put the open threads this person may see into a `snapshot` or
    `resumed` frame, from the database (a reconnect to any server gets them
    back). Left out when there are none: its absence means none."""
    found = await _db(threads.open_threads)(who=consumer.who)
    if found:
        frame["threads"] = found


async def deliver(consumer: RoomConsumer, message: dict[str, Any]) -> None:
    """A live thread frame: only to a joined socket of this session whose
    person may still see it (re-checked in the database, so a demoted
    co-facilitator or a removed member gets nothing even before their own
    role change or close reaches this socket)."""
    if not consumer.joined or message.get("meeting_id") != consumer.who.meeting_id:
        return
    to, member_id = message.get("to"), message.get("member_id")
    if to == "member" and member_id != consumer.who.user_id:
        return
    if to != "member" and not consumer.who.facilitates:
        return
    allowed = await _db(threads.may_receive)(
        who=consumer.who, member_id=member_id, to=to
    )
    if allowed:
        consumer.enqueue(message["text"])


HANDLERS = {"thread.open": on_open, "thread.send": on_send, "thread.close": on_close}
