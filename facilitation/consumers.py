"""The room's WebSocket consumer. Thin: it checks a frame's shape and hands
it to one service function; the services decide. See docs/protocol.md."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from . import protocol
from .events import dumps
from .room import TransitionError
from .services import control, messages, presence
from .services.presence import TooManyConnections
from .services.rooms import Participant, participant

log = logging.getLogger("hearth.room")

# Close codes (docs/protocol.md).
SESSION_GONE = 4401
FORBIDDEN = 4403
FLOODING = 4429


class RoomConsumer(AsyncWebsocketConsumer):
    who: Participant
    registered: bool = False  # a RoomConnection row exists for this socket
    last_seq: int | None = None
    admitted: bool = False
    joined: bool = False

    # --- lifecycle -----------------------------------------------------
    async def connect(self) -> None:
        user = self.scope.get("user")
        meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        if user is None or not user.is_authenticated:
            log.info("room refused reason=anonymous room=%s", meeting_id)
            await self.close(code=SESSION_GONE)
            return
        try:
            self.who = await database_sync_to_async(participant)(
                meeting_id=meeting_id, user=user
            )
        except (Http404, PermissionDenied):
            # A missing session and someone else's look the same.
            log.info(
                "room refused reason=not_member room=%s user=%s", meeting_id, user.pk
            )
            await self.close(code=FORBIDDEN)
            return
        try:
            self.admitted = await database_sync_to_async(presence.connect)(
                who=self.who, channel_name=self.channel_name
            )
        except TooManyConnections:
            log.info(
                "room refused reason=too_many room=%s user=%s", meeting_id, user.pk
            )
            await self.close(code=FLOODING)
            return
        self.registered = True
        await self.channel_layer.group_add(f"user.{user.pk}", self.channel_name)
        if self.who.facilitates:
            await self.channel_layer.group_add(
                f"room.{meeting_id}.fac", self.channel_name
            )
        if self.admitted:
            await self.channel_layer.group_add(f"room.{meeting_id}", self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if not self.registered:
            return
        meeting_id = self.who.meeting_id
        for group in (
            f"room.{meeting_id}",
            f"room.{meeting_id}.fac",
            f"user.{self.who.user_id}",
        ):
            await self.channel_layer.group_discard(group, self.channel_name)
        await database_sync_to_async(presence.disconnect)(
            who=self.who, channel_name=self.channel_name
        )

    # --- frames from the browser --------------------------------------------
    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        try:
            frame = protocol.parse(
                text_data, bytes_data, meeting_id=self.who.meeting_id
            )
        except protocol.FrameError as error:
            await self.send_error(error.code, error.detail, of=error.of, ref=error.ref)
            return
        handler = self.handlers.get(frame.type)
        if handler is None:  # every known type has a handler; belt and braces
            await self.send_error(
                "unknown_type", "Unknown message type.", of=frame.type
            )
            return
        if frame.type not in ("join", "resume", "ping") and not self.joined:
            await self.send_error(
                "join_first",
                "Send “join” or “resume” first.",
                of=frame.type,
                ref=frame.ref,
            )
            return
        try:
            await handler(self, frame)
        except messages.RateLimited as error:
            await self.send_error(
                error.code,
                error.detail,
                of=frame.type,
                ref=frame.ref,
                retry_after=error.retry_after,
            )
        except messages.MutedError as error:
            await self.send_error(
                error.code,
                error.detail,
                of=frame.type,
                ref=frame.ref,
                until=error.until,
            )
        except TransitionError as error:
            await self.send_error(
                error.code, error.detail, of=frame.type, ref=frame.ref
            )
        except (PermissionDenied, Http404):
            await self.close(code=FORBIDDEN)
        except Exception:
            # Logged without the frame's content; the socket stays usable.
            log.exception(
                "room frame failed room=%s user=%s type=%s",
                self.who.meeting_id,
                self.who.user_id,
                frame.type,
            )
            await self.send_error(
                "server_error",
                "Something went wrong on our side; please try again.",
                of=frame.type,
                ref=frame.ref,
            )

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=dumps(frame))

    async def send_error(
        self, code: str, detail: str, *, of: str = "", ref: str = "", **extra: Any
    ) -> None:
        frame: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
        if of:
            frame["for"] = of
        if ref:
            frame["client_msg_id"] = ref
        frame.update(extra)
        await self.send_frame(frame)

    # --- handlers, one per client type ---------------------------------------------
    async def on_join(self, frame: protocol.Frame) -> None:
        snapshot = await database_sync_to_async(presence.snapshot)(who=self.who)
        self.admitted = snapshot["admitted"]
        self.joined = True
        self.last_seq = snapshot["seq"] if self.admitted else None
        await self.send_frame(snapshot)

    async def on_resume(self, frame: protocol.Frame) -> None:
        if not self.admitted:
            await self.on_join(frame)
            return
        after = frame.fields["after_seq"]
        missed = await database_sync_to_async(presence.missed)(
            who=self.who, after_seq=after
        )
        if missed is None:
            await self.send_frame({"type": "resync_required"})
            await self.on_join(frame)
            return
        self.joined = True
        for event in missed:
            await self.send_frame(event)
        self.last_seq = missed[-1]["seq"] if missed else after
        await self.send_frame({"type": "resumed", "seq": self.last_seq})

    async def on_ping(self, frame: protocol.Frame) -> None:
        await database_sync_to_async(presence.heartbeat)(channel_name=self.channel_name)
        await self.send_frame({"type": "pong"})

    async def on_chat(self, frame: protocol.Frame) -> None:
        sent = await database_sync_to_async(messages.send_chat)(
            who=self.who, text=frame.fields["text"], client_msg_id=frame.ref
        )
        await self.send_frame(
            {
                "type": "ack",
                "for": frame.type,
                "client_msg_id": frame.ref,
                "seq": sent.seq,
            }
        )

    async def on_reaction(self, frame: protocol.Frame) -> None:
        seq = await database_sync_to_async(messages.react)(
            who=self.who, emoji=frame.fields["emoji"]
        )
        await self.ack(frame, seq)

    async def on_checkin(self, frame: protocol.Frame) -> None:
        seq = await database_sync_to_async(messages.check_in)(
            who=self.who,
            phase=frame.fields["phase"],
            score=frame.fields["score"],
            word=frame.fields.get("word", ""),
        )
        await self.ack(frame, seq)

    async def on_moment(self, frame: protocol.Frame) -> None:
        await database_sync_to_async(messages.need_a_moment)(who=self.who)
        await self.ack(frame, None)

    async def on_alert_ack(self, frame: protocol.Frame) -> None:
        await database_sync_to_async(messages.acknowledge_alert)(
            who=self.who, alert_id=frame.fields["alert_id"]
        )
        await self.ack(frame, None)

    async def on_action(self, frame: protocol.Frame) -> None:
        seq = await database_sync_to_async(control.act)(
            who=self.who, action=frame.type, payload=frame.fields
        )
        await self.ack(frame, seq)

    async def ack(self, frame: protocol.Frame, seq: int | None) -> None:
        reply: dict[str, Any] = {"type": "ack", "for": frame.type, "seq": seq}
        if frame.ref:
            reply["client_msg_id"] = frame.ref
        await self.send_frame(reply)

    handlers: dict[str, Callable[[RoomConsumer, protocol.Frame], Awaitable[None]]] = {
        "join": on_join,
        "resume": on_resume,
        "ping": on_ping,
        "chat.send": on_chat,
        "reaction": on_reaction,
        "checkin": on_checkin,
        "moment": on_moment,
        "alert.ack": on_alert_ack,
        **dict.fromkeys(protocol.ACTION_TYPES, on_action),
    }

    # --- messages from the channel layer ------------------------------------
    async def room_event(self, message: dict[str, Any]) -> None:
        """A stored public event. Deliver in order, none twice; on a gap
        (a dropped broadcast), fetch what is missing from the log first."""
        if not self.admitted or self.last_seq is None:
            return
        seq = message["seq"]
        if seq <= self.last_seq:
            return
        if seq > self.last_seq + 1:
            missed = await database_sync_to_async(presence.missed)(
                who=self.who, after_seq=self.last_seq
            )
            if missed is None:
                await self.send_frame({"type": "resync_required"})
                await self.on_join(protocol.Frame("join", {}, ""))
                return
            for event in missed:
                if event["seq"] <= seq:
                    await self.send_frame(event)
                    self.last_seq = event["seq"]
            return
        await self.send(text_data=message["text"])
        self.last_seq = seq

    async def room_notice(self, message: dict[str, Any]) -> None:
        if self.who.facilitates:
            await self.send(text_data=message["text"])

    async def room_refresh(self, message: dict[str, Any]) -> None:
        """Admission changed (admitted, room opened): send a fresh snapshot."""
        if message.get("meeting_id") != self.who.meeting_id:
            return
        snapshot = await database_sync_to_async(presence.snapshot)(who=self.who)
        if snapshot["admitted"] and not self.admitted:
            await self.channel_layer.group_add(
                f"room.{self.who.meeting_id}", self.channel_name
            )
        self.admitted = snapshot["admitted"]
        if self.joined:
            self.last_seq = snapshot["seq"] if self.admitted else None
            await self.send_frame(snapshot)

    async def room_kick(self, message: dict[str, Any]) -> None:
        """Removed from the group, or logged out: close within the second."""
        group_id = message.get("group_id")
        if group_id is not None and group_id != self.who.group_id:
            return
        session_key = message.get("session_key")
        session = self.scope.get("session")
        if session_key and getattr(session, "session_key", None) != session_key:
            return
        await self.close(code=int(message.get("code", FORBIDDEN)))


def max_frame_bytes() -> int:
    return int(settings.HEARTH["FRAME_MAX_BYTES"])
