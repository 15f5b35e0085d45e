"""Finding a room, who is who in it, and applying state changes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.transaction import TransactionManagementError
from django.http import Http404
from django.utils import timezone

from facilitation import events
from facilitation.models import LiveRoom, RoomEvent
from facilitation.room import Actor, Outcome, TransitionError, transition
from groups.models import FACILITATING_ROLES, Meeting, Membership, SupportGroup

log = logging.getLogger("hearth.room")


@dataclass(frozen=True)
class Participant:
    """Who a person is in one room: resolved at connect, re-checked on
    every action that changes something."""

    user_id: int
    meeting_id: int
    group_id: int
    name: str
    role: str

    @property
    def facilitates(self) -> bool:
        return self.role in FACILITATING_ROLES

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.facilitates)


def room_for(meeting: Meeting) -> LiveRoom:
    room, _ = LiveRoom.objects.get_or_create(meeting=meeting)
    return room


def participant(*, meeting_id: int, user: Any) -> Participant:
    """The person's place in this session, or Http404 (no such session, or
    not theirs: the two look the same from outside).

    One query on every connect: the membership, and whether the person
    accepted the group's current guidelines (the latest version, if its text
    is still the group's). Anything else takes the full path, which may
    record a new version."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise PermissionDenied("Please log in.")
    from safety.models import GuidelinesAcceptance, GuidelinesVersion

    latest = (
        GuidelinesVersion.objects.filter(group_id=OuterRef(OuterRef("group_id")))
        .order_by("-number")
        .values("pk")[:1]
    )
    accepted = GuidelinesAcceptance.objects.filter(
        user_id=user.pk,
        version_id=Subquery(latest),
        version__text=OuterRef("group__guidelines"),
    )
    found = (
        Membership.objects.filter(
            user=user,
            group__meetings__pk=meeting_id,
            group__archived_at__isnull=True,
        )
        .values_list(
            "group_id", "role", "display_name", "user__display_name", Exists(accepted)
        )
        .first()
    )
    if found is None:
        raise Http404("No such session.")
    group_id, role, group_name, profile_name, has_accepted = found
    if not has_accepted:
        from safety.services import needs_acceptance

        if needs_acceptance(user, SupportGroup.objects.get(pk=group_id)) is not None:
            # The room page sends people to accept the group's guidelines first.
            raise PermissionDenied("Please accept the group's guidelines first.")
    return Participant(
        user_id=user.pk,
        meeting_id=meeting_id,
        group_id=group_id,
        name=group_name or profile_name,
        role=role,
    )


def recheck(who: Participant) -> Participant:
    """Membership can change mid-session: confirm it before any change."""
    return standing(who)[0]


def standing(who: Participant) -> tuple[Participant, bool]:
    """The person's membership re-checked (their current role), and whether
    a mute is in force, in one query; PermissionDenied when they left.

    Hand-written SQL: every room action starts here, and the ORM's query
    building cost several times the query itself."""
    from accounts.models import User
    from safety.models import Mute

    membership, mute, user = (
        Membership._meta.db_table,
        Mute._meta.db_table,
        User._meta.db_table,
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT m.role, EXISTS (
                SELECT 1 FROM {mute} x
                WHERE x.group_id = m.group_id AND x.user_id = m.user_id
                  AND x.until > %s AND x.lifted_at IS NULL
            )
            FROM {membership} m INNER JOIN {user} u ON u.id = m.user_id
            WHERE m.user_id = %s AND m.group_id = %s AND u.is_active
            """,
            [now, who.user_id, who.group_id],
        )
        found = cursor.fetchone()
    if found is None:
        raise PermissionDenied("You're no longer a member of this group.")
    role, muted = found
    if role != who.role:
        who = Participant(who.user_id, who.meeting_id, who.group_id, who.name, role)
    return who, bool(muted)


def locked_room(meeting_id: int) -> LiveRoom:
    """The room, locked (FOR UPDATE) until the transaction ends."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("locked_room() needs a transaction.")
    room = _select_locked(meeting_id)
    if room is None:
        meeting = Meeting.objects.filter(pk=meeting_id).first()
        if meeting is None:
            raise Http404("No such session.")
        room_for(meeting)
        room = _select_locked(meeting_id)
        assert room is not None
    return room


def _select_locked(meeting_id: int) -> LiveRoom | None:
    # Every room action starts here: plain SQL spares the ORM's query
    # building, which cost more than the query.
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    table = LiveRoom._meta.db_table
    found = LiveRoom.objects.raw(
        f"SELECT * FROM {table} WHERE meeting_id = %s{lock}", [meeting_id]
    )
    return next(iter(found), None)


def append_event(
    room: LiveRoom,
    *,
    kind: str,
    actor_id: int | None,
    data: dict[str, Any],
    client_msg_id: str = "",
) -> RoomEvent:
    """Store the next event of a locked room and broadcast it after commit.

    Two plain statements (insert, bump the room's seq): this runs for every
    chat message, reaction and action."""
    room.last_seq += 1
    event = RoomEvent(
        room=room,
        seq=room.last_seq,
        kind=kind,
        actor_id=actor_id,
        data=data,
        client_msg_id=client_msg_id,
        created_at=timezone.now(),
    )
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RoomEvent._meta.db_table} "
            "(room_id, seq, kind, actor_id, data, client_msg_id, created_at, hidden)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            [
                room.pk,
                event.seq,
                kind,
                actor_id,
                _DATA.get_db_prep_save(data, connection),
                client_msg_id,
                ops.adapt_datetimefield_value(event.created_at),
                False,
            ],
        )
        event.pk = cursor.fetchone()[0]
        cursor.execute(
            f"UPDATE {LiveRoom._meta.db_table} SET last_seq = %s WHERE id = %s",
            [room.last_seq, room.pk],
        )
    event._state.adding = False
    event._state.db = connection.alias
    events.publish(room, event)
    return event


_DATA = RoomEvent._meta.get_field("data")


def _stamp_lifecycle(room: LiveRoom, before: str, after: str) -> list[str]:
    now = timezone.now()
    changed = []
    if after == "open" and room.opened_at is None:
        room.opened_at, changed = now, ["opened_at"]
    if after == "live" and room.started_at is None:
        room.started_at = now
        changed.append("started_at")
        if room.opened_at is None:
            room.opened_at = now
            changed.append("opened_at")
    if after == "ended" and before != "ended":
        room.ended_at = now
        changed.append("ended_at")
    return changed


@transaction.atomic
def apply(
    *,
    who: Participant,
    action: str,
    payload: dict[str, Any] | None = None,
    internal: bool = False,
) -> tuple[LiveRoom, RoomEvent | None, Outcome]:
    """Run one action through the state machine under the room's row lock.

    Returns the room, the stored public event (or None) and the outcome."""
    if not internal:
        who = recheck(who)
    return apply_locked(
        locked_room(who.meeting_id), who=who, action=action, payload=payload
    )


def apply_locked(
    room: LiveRoom,
    *,
    who: Participant,
    action: str,
    payload: dict[str, Any] | None = None,
) -> tuple[LiveRoom, RoomEvent | None, Outcome]:
    """`apply` for a caller that already holds the room's lock (from
    `locked_room`, in its transaction)."""
    before = room.status
    outcome = transition(
        room.state, actor=who.actor, action=action, payload=payload, now=timezone.now()
    )
    if outcome.state == room.state and not outcome.kind:
        return room, None, outcome
    room.state = outcome.state
    room.version += 1
    fields = ["state", "version", *_stamp_lifecycle(room, before, room.status)]
    room.save(update_fields=fields)
    log.info(
        "room action room=%s actor=%s action=%s version=%s",
        room.meeting_id,
        who.user_id,
        action,
        room.version,
    )
    event = None
    if outcome.kind:
        event = append_event(
            room, kind=outcome.kind, actor_id=who.user_id, data=outcome.data
        )
    return room, event, outcome


__all__ = [
    "Participant",
    "TransitionError",
    "append_event",
    "apply",
    "apply_locked",
    "locked_room",
    "participant",
    "recheck",
    "room_for",
    "standing",
]
