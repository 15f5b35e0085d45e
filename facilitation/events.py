"""Frames that leave the server, and the one way room events are broadcast.

Each event is encoded to JSON once and the same text goes to every socket;
broadcasts happen only after the transaction that stored the event commits.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from .models import LiveRoom, RoomEvent

log = logging.getLogger(__name__)


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def event_frame(event: RoomEvent) -> dict[str, Any]:
    return frame_of(event.seq, event.kind, event.created_at, event.data, event.hidden)


# The columns `frame_of` takes, in order (for `.values_list(*FRAME_FIELDS)`).
FRAME_FIELDS = ("seq", "kind", "created_at", "data", "hidden")


def frame_of(
    seq: int, kind: str, at: Any, data: dict[str, Any], hidden: bool
) -> dict[str, Any]:
    """An event as clients see it; a hidden message keeps no text."""
    if hidden:
        data = {k: v for k, v in data.items() if k != "text"}
        data["hidden"] = True
    return {
        "type": "event",
        "seq": seq,
        "kind": kind,
        "at": at.isoformat(),
        "data": data,
    }


def _send(group: str, message: dict[str, Any]) -> None:
    if message.get("type") == "room.event":
        # This process's own sockets first, without the round trip through
        # Redis (the copy that comes back on the layer is dropped there).
        from .fanout import deliver_here

        deliver_here(
            message["meeting_id"],
            message["seq"],
            message["text"],
            message.get("kind", ""),
        )
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The event is stored; clients fill the gap on resume. Never fail
        # the sender for a broadcast problem.
        log.exception("broadcast failed group=%s type=%s", group, message.get("type"))


def publish(room: LiveRoom, event: RoomEvent) -> None:
    """Broadcast a stored public event to everyone admitted, after commit."""
    text = dumps(event_frame(event))
    message = {
        "type": "room.event",
        "meeting_id": room.meeting_id,
        "seq": event.seq,
        "kind": event.kind,
        "text": text,
    }
    transaction.on_commit(lambda: _send(room.group_name, message))


def notify_facilitators(room: LiveRoom, frame: dict[str, Any]) -> None:
    """A private notice (lobby, alerts) for the room's facilitators only."""
    message = {"type": "room.notice", "text": dumps(frame)}
    transaction.on_commit(lambda: _send(room.facilitators_group_name, message))


def tell_user(user_id: int, message: dict[str, Any]) -> None:
    """A control message to every socket of one person (admit, close)."""
    transaction.on_commit(lambda: _send(f"user.{user_id}", message))


def tell_thread(room: LiveRoom, member_id: int, frame: dict[str, Any]) -> None:
    """A private-thread frame for its member and the room's facilitators,
    after commit. Each socket re-checks its person's standing before
    writing it (consumers.RoomConsumer.room_thread)."""
    message = {
        "type": "room.thread",
        "meeting_id": room.meeting_id,
        "member_id": member_id,
        "text": dumps(frame),
    }

    def send() -> None:
        _send(f"user.{member_id}", {**message, "to": "member"})
        _send(room.facilitators_group_name, {**message, "to": "facilitators"})

    transaction.on_commit(send)
