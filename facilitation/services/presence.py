"""Arriving, leaving, snapshots and resume."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts.models import User
from facilitation import events
from facilitation.models import (
    Attendance,
    CheckIn,
    FacilitatorAlert,
    LiveRoom,
    RoomConnection,
    RoomEvent,
)
from facilitation.room import OPEN_STATUSES
from groups.models import Membership
from safety.models import HeldMessage

from .rooms import Participant, append_event, apply_locked, locked_room

HISTORY = 50


class TooManyConnections(Exception):
    pass


def _fresh_after() -> dt.datetime:
    return timezone.now() - dt.timedelta(
        seconds=settings.HEARTH["PRESENCE_TTL_SECONDS"]
    )


def _present_ids(room: LiveRoom, names: dict[int, dict[str, str]]) -> list[int]:
    """People in the room: connected, and admitted (facilitators always are).
    Someone waiting in the lobby is not "here" yet."""
    connected = (
        room.connections.filter(last_seen__gte=_fresh_after())
        .values_list("user_id", flat=True)
        .distinct()
    )
    admitted = set(room.state["admitted"])
    return [
        uid
        for uid in connected
        if uid in admitted or names.get(uid, {}).get("role", "member") != "member"
    ]


def _start_attendance(room: LiveRoom, user_id: int) -> bool:
    """Start (or continue) a stay. True when the person was not already
    counted as here, so their arrival is news to the room."""
    now = timezone.now()
    record, created = Attendance.objects.select_for_update().get_or_create(
        room=room,
        user_id=user_id,
        defaults={"first_joined_at": now, "present_since": now},
    )
    if created:
        return True
    if record.present_since is None:
        record.present_since = now
        record.save(update_fields=["present_since"])
        return True
    return False


def _stop_attendance(room: LiveRoom, user_id: int) -> bool:
    """End a stay; True when one was open."""
    record = (
        Attendance.objects.select_for_update()
        .filter(room=room, user_id=user_id)
        .first()
    )
    if record is None or record.present_since is None:
        return False
    now = timezone.now()
    record.seconds += int((now - record.present_since).total_seconds())
    record.present_since = None
    record.last_left_at = now
    record.save(update_fields=["seconds", "present_since", "last_left_at"])
    return True


def _lobby_frame(room: LiveRoom) -> dict[str, Any]:
    names = _names(room)
    return {
        "type": "lobby",
        "lobby": [
            {"user_id": uid, "name": names.get(uid, {}).get("name", "")}
            for uid in room.state["lobby"]
        ],
    }


def is_admitted(room: LiveRoom, who: Participant) -> bool:
    return who.facilitates or who.user_id in room.state["admitted"]


@transaction.atomic
def connect(*, who: Participant, channel_name: str) -> bool:
    """Register a socket. Returns whether the person is admitted to the room."""
    limit = settings.HEARTH["MAX_ROOM_CONNECTIONS"]
    # One person's connects take turns (their user row is the lock), so
    # sockets arriving together cannot all squeeze under the cap.
    User.objects.select_for_update().filter(pk=who.user_id).values_list("pk").first()
    open_sockets = RoomConnection.objects.filter(
        user_id=who.user_id, last_seen__gte=_fresh_after()
    ).count()
    if open_sockets >= limit:
        raise TooManyConnections
    if _still_here(who, channel_name):
        return True
    room = locked_room(who.meeting_id)
    if who.user_id in room.state.get("removed", []):
        raise PermissionDenied("Removed from this session.")
    RoomConnection.objects.create(
        room=room, user_id=who.user_id, channel_name=channel_name
    )
    if room.status in OPEN_STATUSES:
        was_waiting = who.user_id in room.state["lobby"]
        room, _, _ = apply_locked(room, who=who, action="lobby.join")
        if who.user_id in room.state["lobby"] and not was_waiting:
            events.notify_facilitators(room, _lobby_frame(room))
    admitted = is_admitted(room, who)
    if admitted:
        _arrived(room, who)
    return admitted


def _still_here(who: Participant, channel_name: str) -> bool:
    """A second tab, or a socket back within the grace period: the person is
    admitted and counted as here, so nothing about the room changes and its
    lock is not needed (a reconnect storm does not queue on it). Registers
    the socket and returns True; False sends the caller the full way."""
    room = LiveRoom.objects.filter(meeting_id=who.meeting_id).first()
    if room is None or who.user_id not in room.state.get("admitted", []):
        return False
    if who.user_id in room.state.get("removed", []):
        return False
    here = Attendance.objects.filter(
        room=room, user_id=who.user_id, present_since__isnull=False
    ).exists()
    if here:
        RoomConnection.objects.create(
            room=room, user_id=who.user_id, channel_name=channel_name
        )
    return here


def _arrived(room: LiveRoom, who: Participant) -> None:
    """Count the person as here; tell the room unless they already were (a
    second tab, or back within the grace period after a dropped socket)."""
    if _start_attendance(room, who.user_id):
        append_event(
            room,
            kind="presence.joined",
            actor_id=who.user_id,
            data={"user_id": who.user_id, "name": who.name, "role": who.role},
        )


@transaction.atomic
def admitted_now(*, who: Participant) -> None:
    """After an admit: the person's presence starts counting."""
    room = locked_room(who.meeting_id)
    if room.connections.filter(user_id=who.user_id).exists():
        _arrived(room, who)


def disconnect(*, who: Participant, channel_name: str) -> None:
    """Forget a closed socket. Whether the person has left is decided by
    `leave_if_gone`, now or after the grace period (the consumer's call)."""
    RoomConnection.objects.filter(channel_name=channel_name).delete()


@transaction.atomic
def leave_if_gone(*, who: Participant) -> None:
    """If the person has no open socket left here, they have left: out of
    the lobby, and the room is told. A reconnect in time makes this a no-op,
    so a dropped network does not flash "left" and "joined" to everyone."""
    fresh = RoomConnection.objects.filter(
        room__meeting_id=who.meeting_id,
        user_id=who.user_id,
        last_seen__gte=_fresh_after(),
    )
    if fresh.exists():
        # Back already (the usual end of a grace period): no lock needed, so
        # a reconnect storm's expiring graces do not queue on the room.
        return
    room = locked_room(who.meeting_id)
    if fresh.exists():  # came back while this waited for the lock
        return
    was_waiting = who.user_id in room.state["lobby"]
    room, _, _ = apply_locked(room, who=who, action="member.leave")
    if was_waiting:
        events.notify_facilitators(room, _lobby_frame(room))
    if _stop_attendance(room, who.user_id):
        append_event(
            room,
            kind="presence.left",
            actor_id=who.user_id,
            data={"user_id": who.user_id},
        )


def heartbeat(*, channel_name: str, meeting_id: int) -> int:
    """Keep this socket's presence fresh; returns the room's latest seq so a
    client can notice a lost broadcast even when the room has gone quiet.
    Every open socket calls this twice a minute: plain SQL."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {RoomConnection._meta.db_table} SET last_seen = %s"
            " WHERE channel_name = %s",
            [now, channel_name],
        )
        cursor.execute(
            f"SELECT last_seq FROM {LiveRoom._meta.db_table} WHERE meeting_id = %s",
            [meeting_id],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


# Who is who in a room, kept briefly per process: a town hall that opens
# sends every member a snapshot at once, and each one listed the whole group.
NAMES_SECONDS = 2.0
_names_memo: dict[int, tuple[float, dict[int, dict[str, str]]]] = {}


def forget_names() -> None:
    _names_memo.clear()


def _names(room: LiveRoom) -> dict[int, dict[str, str]]:
    """Names and roles of the session's group, at most NAMES_SECONDS old
    (a rename or role change reaches snapshots that much later; the room is
    told of arrivals by their own events)."""
    now = time.monotonic()
    found = _names_memo.get(room.meeting_id)
    if found is not None and now - found[0] < NAMES_SECONDS:
        return found[1]
    rows = Membership.objects.filter(group__meetings=room.meeting_id).values_list(
        "user_id", "display_name", "user__display_name", "role"
    )
    names = {
        uid: {"name": group_name or profile_name, "role": role}
        for uid, group_name, profile_name, role in rows
    }
    if len(_names_memo) > 1000:  # rooms come and go; keep it small
        _names_memo.clear()
    _names_memo[room.meeting_id] = (now, names)
    return names


def checkin_summary(room: LiveRoom, phase: str) -> dict[str, Any]:
    """Counts per score, shown only when at least 3 people answered."""
    rows = dict(
        CheckIn.objects.filter(room=room, phase=phase)
        .values_list("score")
        .annotate(n=Count("id"))
        .values_list("score", "n")
    )
    total = sum(rows.values())
    minimum = settings.HEARTH["CHECKIN_MIN_ANSWERS"]
    return {
        "phase": phase,
        "count": total,
        "distribution": (
            {str(score): rows.get(score, 0) for score in range(1, 6)}
            if total >= minimum
            else None
        ),
    }


def _public_state(state: dict[str, Any]) -> dict[str, Any]:
    keys = ("status", "queue", "speaking", "spoken", "plan_index", "timer", "pinned")
    public = {key: state[key] for key in keys}
    public["locked"] = state["locked"]
    return public


def snapshot(*, who: Participant) -> dict[str, Any]:
    """Everything a client needs to draw the room, consistent with `seq`:
    the live stream continues from seq + 1."""
    room = LiveRoom.objects.select_related("meeting").get(meeting_id=who.meeting_id)
    admitted = is_admitted(room, who)
    frame: dict[str, Any] = {
        "type": "snapshot",
        "seq": room.last_seq,
        "status": room.status,
        "admitted": admitted,
        "waiting": who.user_id in room.state["lobby"],
        "you": {"user_id": who.user_id, "name": who.name, "role": who.role},
        "session": {
            "id": room.meeting_id,
            "title": room.meeting.title,
            "starts_at": room.meeting.starts_at.isoformat(),
            "ends_at": room.meeting.ends_at.isoformat(),
        },
        "server_time": timezone.now().isoformat(),
    }
    if not admitted:
        return frame
    names = _names(room)
    recent = list(
        RoomEvent.objects.filter(room=room, seq__lte=room.last_seq).order_by("-seq")[
            :HISTORY
        ]
    )
    frame.update(
        {
            "state": _public_state(room.state),
            "people": {str(uid): info for uid, info in names.items()},
            "present": _present_ids(room, names),
            "history": [events.event_frame(e) for e in reversed(recent)],
            "plan": room.plan,
            "checkins": {
                phase: checkin_summary(room, phase) for phase in ("in", "out")
            },
        }
    )
    if who.facilitates:
        frame["lobby"] = _lobby_frame(room)["lobby"]
        frame["auto_admit"] = room.state["auto_admit"]
        frame["alerts"] = [
            {
                "id": alert.pk,
                "kind": alert.kind,
                "user_id": alert.user_id,
                "name": names.get(alert.user_id, {}).get("name", ""),
                "at": alert.created_at.isoformat(),
            }
            for alert in FacilitatorAlert.objects.filter(
                room=room, acknowledged_at__isnull=True
            )[:50]
        ]
        from .alerting import open_safety_alerts
        from .messages import held_frame

        frame["held"] = [
            held_frame(held, names.get(held.author_id, {}).get("name", ""))
            for held in HeldMessage.objects.filter(
                meeting_id=room.meeting_id, status=HeldMessage.Status.PENDING
            ).order_by("-severity", "created_at")[:50]
        ]
        frame["safety_alerts"] = open_safety_alerts(room.meeting_id)
    return frame


def missed(*, who: Participant, after_seq: int) -> list[dict[str, Any]] | None:
    """The events after `after_seq`, in order; None when the client must
    reload a snapshot (too far behind, or a number from the future)."""
    room = LiveRoom.objects.get(meeting_id=who.meeting_id)
    if after_seq > room.last_seq or after_seq < 0:
        return None
    if room.last_seq - after_seq > settings.HEARTH["RESUME_LIMIT"]:
        return None
    rows = (
        RoomEvent.objects.filter(room=room, seq__gt=after_seq, seq__lte=room.last_seq)
        .order_by("seq")
        .values_list(*events.FRAME_FIELDS)
    )
    return [events.frame_of(*row) for row in rows]


def present_in_lobby(room: LiveRoom) -> list[int]:
    fresh = _fresh_after()
    return list(
        room.connections.filter(last_seen__gte=fresh)
        .filter(~Q(user_id__in=room.state["admitted"]))
        .values_list("user_id", flat=True)
        .distinct()
    )
