"""The room's WebSocket consumer. Thin: it checks a frame's shape and hands
it to one service function; the services decide. See docs/protocol.md.

Live events reach a socket through the process's room hub (fanout.py), not
through a channel-layer message per socket. Every outgoing frame passes
through one queue and one writer task, so snapshots, replayed events and
live events leave in order; while a join, resume or gap fill is running,
live events wait in `pending`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import DatabaseSyncToAsync
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from safety.services import dispatch_alert_emails

from . import fanout, protocol, thread_consumer
from .events import dumps
from .room import TransitionError
from .services import alerting, control, messages, moderation, presence, support
from .services.presence import TooManyConnections
from .services.rooms import Participant, participant

log = logging.getLogger("hearth.room")


def database_sync_to_async(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """Run a service in the thread pool. Channels' default runs every
    database call of a process on one thread; sockets do not share state, so
    their calls may run side by side (the room's row lock orders writes)."""
    return DatabaseSyncToAsync(func, thread_sensitive=False)


# Close codes (docs/protocol.md).
SESSION_GONE = 4401
FORBIDDEN = 4403
SLOW_CONSUMER = 4408
FLOODING = 4429
# Frames waiting for a socket that stopped reading; past this it is closed
# (it can reconnect and resume) so server memory stays bounded.
MAX_OUTBOX = 1000

Handler = Callable[["RoomConsumer", protocol.Frame], Awaitable[None]]


class RoomConsumer(AsyncWebsocketConsumer):
    who: Participant
    registered = False  # a RoomConnection row exists for this socket
    last_seq: int | None = None
    admitted = False
    joined = False
    busy = False
    in_hub = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outbox: deque[str] = deque()
        # The task writing the outbox, while one is (see `enqueue`).
        self.writer: asyncio.Task[None] | None = None
        self.pending: list[tuple[int, str]] = []
        self._gap_task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None

    # --- lifecycle -----------------------------------------------------------
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
        except PermissionDenied:
            log.info("room refused reason=removed room=%s user=%s", meeting_id, user.pk)
            await self.close(code=FORBIDDEN)
            return
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
        await self.accept()
        if self.admitted:
            await self._enter_hub()

    async def disconnect(self, code: int) -> None:
        if not self.registered:
            return
        meeting_id = self.who.meeting_id
        if self.in_hub:
            await fanout.hub().leave(meeting_id, self)
            self.in_hub = False
        for group in (f"room.{meeting_id}.fac", f"user.{self.who.user_id}"):
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.writer
        await database_sync_to_async(presence.disconnect)(
            who=self.who, channel_name=self.channel_name
        )
        grace = settings.HEARTH["PRESENCE_GRACE_SECONDS"]
        if grace > 0:
            _later(grace, self.who)
        else:
            await database_sync_to_async(presence.leave_if_gone)(who=self.who)

    async def _enter_hub(self) -> None:
        if not self.in_hub:
            await fanout.hub().join(self.who.meeting_id, self)
            self.in_hub = True

    # --- the outgoing queue --------------------------------------------------
    def enqueue(self, text: str) -> None:
        """Queue a frame; frames leave in the order queued.

        There is no long-lived writer per socket. When none is running, a
        writer task starts eagerly: it runs inline until a write would have
        to wait (the socket's buffer is full), so a live event reaches every
        local socket of a room in one pass of the hub, and an idle socket
        holds no task at all."""
        if len(self.outbox) >= MAX_OUTBOX:
            log.info(
                "slow consumer closed room=%s user=%s",
                self.who.meeting_id,
                self.who.user_id,
            )
            self.outbox.clear()
            self._closing = asyncio.create_task(self.close(code=SLOW_CONSUMER))
            return
        self.outbox.append(text)
        if self.writer is None:
            task = asyncio.Task(
                self._write(), loop=asyncio.get_running_loop(), eager_start=True
            )
            if not task.done():
                self.writer = task

    async def _write(self) -> None:
        try:
            while self.outbox:
                await self.send(text_data=self.outbox.popleft())
        except Exception:
            # The socket went away mid-write; its disconnect is on the way.
            self.outbox.clear()
        finally:
            self.writer = None

    async def send_frame(self, frame: dict[str, Any]) -> None:
        self.enqueue(dumps(frame))

    async def replay(self, frames: list[dict[str, Any]]) -> None:
        """Send a run of stored events (resume, gap fill) without tripping the
        slow-consumer cap: wait for the socket to take each batch."""
        for frame in frames:
            if len(self.outbox) >= MAX_OUTBOX // 2 and self.writer is not None:
                await asyncio.shield(self.writer)
            self.enqueue(dumps(frame))

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

    # --- live events from the hub ---------------------------------------------
    def offer(self, seq: int, text: str) -> None:
        """A stored public event, already encoded. Deliver in order and none
        twice; on a gap (a dropped broadcast) fetch what is missing first."""
        if self.busy:
            self.pending.append((seq, text))
            return
        if not self.joined or not self.admitted or self.last_seq is None:
            return  # the snapshot or resume that comes next covers it
        if seq <= self.last_seq:
            return
        if seq == self.last_seq + 1:
            self.last_seq = seq
            self.enqueue(text)
            return
        self.pending.append((seq, text))
        self.busy = True
        self._gap_task = asyncio.create_task(self._fill_gap())

    def offer_run(self, run: list[tuple[int, str]], batch: str) -> None:
        """Consecutive stored events, and the same as one `events` frame:
        sent as that frame when the whole run is next in line here."""
        ready = (
            not self.busy
            and self.joined
            and self.admitted
            and self.last_seq is not None
            and run[0][0] == self.last_seq + 1
        )
        if not ready:
            for seq, text in run:
                self.offer(seq, text)
            return
        self.last_seq = run[-1][0]
        self.enqueue(batch)

    async def _fill_gap(self) -> None:
        resync = False
        try:
            missed = await database_sync_to_async(presence.missed)(
                who=self.who, after_seq=self.last_seq or 0
            )
            if missed is None:
                resync = True
                self.pending.clear()
            else:
                run = []
                for event in missed:
                    if event["seq"] == (self.last_seq or 0) + 1:
                        self.last_seq = event["seq"]
                        run.append(event)
                await self.replay(run)
        finally:
            self._release()
        if resync:
            await self.send_frame({"type": "resync_required"})
            await self.on_join(protocol.Frame("join", {}, ""))

    def _release(self) -> None:
        """End a join, resume or gap fill: deliver what waited meanwhile."""
        self.busy = False
        waiting, self.pending = sorted(self.pending), []
        for seq, text in waiting:
            self.offer(seq, text)

    # --- frames from the browser ---------------------------------------------
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
        handler = HANDLERS[frame.type]
        if frame.type not in ("join", "resume", "ping") and not self.joined:
            await self.send_error(
                "join_first",
                "Send “join” or “resume” first.",
                of=frame.type,
                ref=frame.ref,
            )
            return
        # Live events wait while a frame is handled, so its sender gets the
        # ack (with the seq) before the event it caused.
        holding = not self.busy
        self.busy = True
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
        finally:
            if holding:
                self._release()

    # --- handlers, one per client type ---------------------------------------
    async def on_join(self, frame: protocol.Frame) -> None:
        holding = not self.busy
        self.busy = True
        try:
            snapshot = await database_sync_to_async(presence.snapshot)(who=self.who)
            self.admitted = snapshot["admitted"]
            self.joined = True
            self.last_seq = snapshot["seq"] if self.admitted else None
            await thread_consumer.add_state(self, snapshot)
            await self.send_frame(snapshot)
            if self.admitted:
                await self._enter_hub()
        finally:
            if holding:
                self._release()

    async def on_resume(self, frame: protocol.Frame) -> None:
        if not self.admitted:
            await self.on_join(frame)
            return
        after = frame.fields["after_seq"]
        holding = not self.busy
        self.busy = True
        try:
            missed = await database_sync_to_async(presence.missed)(
                who=self.who, after_seq=after
            )
            if missed is not None:
                self.joined = True
                await self.replay(missed)
                self.last_seq = missed[-1]["seq"] if missed else after
                # Thread frames are outside the sequence: sent afresh here.
                resumed = {"type": "resumed", "seq": self.last_seq}
                await thread_consumer.add_state(self, resumed)
                await self.send_frame(resumed)
                await self.send_open_alerts()
        finally:
            if holding:
                self._release()
        if missed is None:
            await self.send_frame({"type": "resync_required"})
            await self.on_join(frame)

    async def on_ping(self, frame: protocol.Frame) -> None:
        seq = await database_sync_to_async(presence.heartbeat)(
            channel_name=self.channel_name, meeting_id=self.who.meeting_id
        )
        pong: dict[str, Any] = {"type": "pong"}
        if self.admitted:
            pong["seq"] = seq
        await self.send_frame(pong)

    async def on_chat(self, frame: protocol.Frame) -> None:
        sent = await database_sync_to_async(messages.send_chat)(
            who=self.who, text=frame.fields["text"], client_msg_id=frame.ref
        )
        await self.send_frame(
            {
                "type": "ack",
                "for": frame.type,
                **({"client_msg_id": frame.ref} if frame.ref else {}),
                "seq": sent.seq,
                "status": sent.status,
            }
        )
        # Private to the sender, in the same round trip as the ack.
        if sent.card:
            await self.send_frame({"type": "crisis_card", "card": sent.card})
        if sent.notice:
            await self.send_frame({"type": "notice", "text": sent.notice})
        if sent.checkin:
            await self.send_frame({"type": "gentle_checkin"})
        if sent.email_alert_id:
            after_reply(sent.email_alert_id)

    async def on_report(self, frame: protocol.Frame) -> None:
        await database_sync_to_async(moderation.report)(
            who=self.who,
            seq=frame.fields["seq"],
            reason=frame.fields["reason"],
            note=frame.fields.get("note", ""),
        )
        await self.ack(frame, None)

    async def on_hide(self, frame: protocol.Frame) -> None:
        seq = await database_sync_to_async(moderation.hide)(
            who=self.who, seq=frame.fields["seq"], hidden=frame.type == "message.hide"
        )
        await self.ack(frame, seq)

    async def on_mute(self, frame: protocol.Frame) -> None:
        until = await database_sync_to_async(moderation.mute)(
            who=self.who,
            user_id=frame.fields["user_id"],
            minutes=frame.fields["minutes"],
        )
        await self.send_frame(
            {"type": "ack", "for": frame.type, "seq": None, "until": until}
        )

    async def on_unmute(self, frame: protocol.Frame) -> None:
        await database_sync_to_async(moderation.unmute)(
            who=self.who, user_id=frame.fields["user_id"]
        )
        await self.ack(frame, None)

    async def on_remove(self, frame: protocol.Frame) -> None:
        seq = await database_sync_to_async(moderation.remove)(
            who=self.who, user_id=frame.fields["user_id"], scope=frame.fields["scope"]
        )
        await self.ack(frame, seq)

    async def on_held(self, frame: protocol.Frame) -> None:
        await database_sync_to_async(moderation.decide_held)(
            who=self.who,
            held_id=frame.fields["held_id"],
            approve=frame.fields["approve"],
        )
        await self.ack(frame, None)

    async def on_safety_ack(self, frame: protocol.Frame) -> None:
        await database_sync_to_async(moderation.acknowledge_safety_alert)(
            who=self.who, alert_id=frame.fields["alert_id"]
        )
        await self.ack(frame, None)

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

    # --- alerts that reach a person (docs/safety.md) --------------------------
    async def on_visibility(self, frame: protocol.Frame) -> None:
        await database_sync_to_async(alerting.set_visibility)(
            who=self.who,
            channel_name=self.channel_name,
            visible=frame.fields["visible"],
        )
        await self.ack(frame, None)

    async def send_open_alerts(self) -> None:
        """A resumed facilitator gets the open safety alerts again (a join
        has them in its snapshot), until someone acknowledges them."""
        if self.who.facilitates:
            alerts = await database_sync_to_async(alerting.open_safety_alerts)(
                self.who.meeting_id
            )
            await self.send_frame({"type": "safety_alerts", "alerts": alerts})

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

    async def on_support(self, frame: protocol.Frame) -> None:
        """ "I'd like support" and "I'm not safe right now": the crisis card
        right after the ack, for the sender alone (docs/safety.md)."""
        service = (
            support.not_safe
            if frame.type == "support.not_safe"
            else support.request_support
        )
        card = await database_sync_to_async(service)(who=self.who)
        await self.ack(frame, None)
        await self.send_frame({"type": "crisis_card", "card": card})

    async def ack(self, frame: protocol.Frame, seq: int | None) -> None:
        reply: dict[str, Any] = {"type": "ack", "for": frame.type, "seq": seq}
        if frame.ref:
            reply["client_msg_id"] = frame.ref
        await self.send_frame(reply)

    # --- messages from the channel layer --------------------------------------
    async def room_notice(self, message: dict[str, Any]) -> None:
        if self.who.facilitates:
            self.enqueue(message["text"])

    async def room_role(self, message: dict[str, Any]) -> None:
        """This person's role in the group changed: regroup and redraw."""
        if message.get("group_id") != self.who.group_id:
            return
        role = str(message.get("role", ""))
        if role == self.who.role:
            return
        before = self.who.facilitates
        self.who = Participant(
            self.who.user_id,
            self.who.meeting_id,
            self.who.group_id,
            self.who.name,
            role,
        )
        fac_group = f"room.{self.who.meeting_id}.fac"
        if before and not self.who.facilitates:
            await self.channel_layer.group_discard(fac_group, self.channel_name)
        elif self.who.facilitates and not before:
            await self.channel_layer.group_add(fac_group, self.channel_name)
        await self.room_refresh({"meeting_id": self.who.meeting_id})

    async def room_private(self, message: dict[str, Any]) -> None:
        """A frame for this person only (mute notices)."""
        if message.get("meeting_id") in (None, self.who.meeting_id):
            await self.send_frame(message["frame"])

    async def room_thread(self, message: dict[str, Any]) -> None:
        """A private-thread frame (docs/protocol.md, "Private threads")."""
        await thread_consumer.deliver(self, message)

    async def room_refresh(self, message: dict[str, Any]) -> None:
        """Admission changed (admitted, room opened): send a fresh snapshot."""
        if message.get("meeting_id") != self.who.meeting_id:
            return
        holding = not self.busy
        self.busy = True
        try:
            snapshot = await database_sync_to_async(presence.snapshot)(who=self.who)
            self.admitted = snapshot["admitted"]
            if self.joined:
                self.last_seq = snapshot["seq"] if self.admitted else None
                await thread_consumer.add_state(self, snapshot)
                await self.send_frame(snapshot)
            if self.admitted:
                await self._enter_hub()
        finally:
            if holding:
                self._release()

    async def room_kick(self, message: dict[str, Any]) -> None:
        """Removed from the group, or logged out: close within the second."""
        group_id = message.get("group_id")
        if group_id is not None and group_id != self.who.group_id:
            return
        meeting_id = message.get("meeting_id")
        if meeting_id is not None and meeting_id != self.who.meeting_id:
            return
        session_key = message.get("session_key")
        session = self.scope.get("session")
        if session_key and getattr(session, "session_key", None) != session_key:
            return
        await self.close(code=int(message.get("code", FORBIDDEN)))


# Alert emails being handed off after a reply (held so they are not collected).
_dispatching: set[asyncio.Task[None]] = set()


def after_reply(alert_id: int) -> None:
    """Dispatch an alert's emails once the sender's ack and card are queued:
    nothing slow (the broker, SMTP) comes before them, and the socket does
    not wait for it (docs/safety.md, Alert delivery)."""

    async def dispatch() -> None:
        try:
            await database_sync_to_async(dispatch_alert_emails)(alert_id=alert_id)
        except Exception:  # the outbox rows stay; the minute sweep sends them
            log.exception("alert email dispatch failed alert=%s", alert_id)

    task = asyncio.create_task(dispatch())
    _dispatching.add(task)
    task.add_done_callback(_dispatching.discard)


# Leaves waiting out their grace period (held so they are not collected).
_leaving: set[asyncio.Task[None]] = set()


def _later(grace: float, who: Participant) -> None:
    """Decide whether `who` left once the grace period is over. Held in this
    process only: if it stops meanwhile, the person's presence simply ends
    with their connection's freshness (snapshots count fresh sockets)."""

    async def leave() -> None:
        await asyncio.sleep(grace)
        try:
            await database_sync_to_async(presence.leave_if_gone)(who=who)
        except Exception:
            log.exception(
                "room leave failed room=%s user=%s", who.meeting_id, who.user_id
            )

    task = asyncio.create_task(leave())
    _leaving.add(task)
    task.add_done_callback(_leaving.discard)


HANDLERS: dict[str, Handler] = {
    "join": RoomConsumer.on_join,
    "resume": RoomConsumer.on_resume,
    "ping": RoomConsumer.on_ping,
    "chat.send": RoomConsumer.on_chat,
    "reaction": RoomConsumer.on_reaction,
    "checkin": RoomConsumer.on_checkin,
    "moment": RoomConsumer.on_moment,
    "alert.ack": RoomConsumer.on_alert_ack,
    "report": RoomConsumer.on_report,
    "message.hide": RoomConsumer.on_hide,
    "message.unhide": RoomConsumer.on_hide,
    "member.mute": RoomConsumer.on_mute,
    "member.unmute": RoomConsumer.on_unmute,
    "member.remove": RoomConsumer.on_remove,
    "held.decide": RoomConsumer.on_held,
    "safety.ack": RoomConsumer.on_safety_ack,
    "support.request": RoomConsumer.on_support,
    "support.not_safe": RoomConsumer.on_support,
    "visibility": RoomConsumer.on_visibility,
    **dict.fromkeys(protocol.ACTION_TYPES, RoomConsumer.on_action),
    **thread_consumer.HANDLERS,
}
