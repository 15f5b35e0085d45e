"""Facilitator actions, and the follow-ups some of them need."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from facilitation import events
from facilitation.models import LiveRoom, RoomConnection
from facilitation.protocol import ACTION_TYPES
from facilitation.room import MAX_PIN_LENGTH, RULES, TransitionError
from groups.models import Meeting

from .messages import clean_text
from .presence import (
    _arrived,
    _fresh_after,
    _lobby_frame,
    _names,
    _stop_attendance,
    is_admitted,
)
from .rooms import Participant, apply, locked_room, recheck

# The room actions a client may send (protocol.ACTION_TYPES), split by the
# state machine's own rule of who may use them.
FACILITATOR_ACTIONS = frozenset(a for a in ACTION_TYPES if RULES[a][1])
MEMBER_ACTIONS = frozenset(a for a in ACTION_TYPES if not RULES[a][1])


def frozen_plan(meeting: Meeting) -> list[dict[str, Any]]:
    """The session plan's items as they are now, rendered for the room."""
    from prompts.markdown import to_html
    from prompts.services.plans import plan_for_meeting

    plan = plan_for_meeting(meeting=meeting)
    if plan is None:
        return []
    items = plan.items.select_related("version").order_by("position", "pk")
    return [
        {
            "index": index,
            "version_id": item.version_id,
            "title": item.version.title,
            "kind": item.version.kind,
            "minutes": item.minutes,
            "html": to_html(item.version.text),
            "content_note": item.version.content_note,
            "follow_up": list(item.version.follow_up_questions or []),
        }
        for index, item in enumerate(items)
    ]


def _connected_users(room: LiveRoom) -> set[int]:
    return set(
        RoomConnection.objects.filter(room=room, last_seen__gte=_fresh_after())
        .values_list("user_id", flat=True)
        .distinct()
    )


def _welcome(room: LiveRoom, user_ids: list[int]) -> None:
    """People just admitted: count them present, refresh their screens."""
    names = _names(room)
    connected = _connected_users(room)
    for user_id in user_ids:
        info = names.get(user_id)
        if info is None:
            continue
        if user_id in connected:
            who = Participant(user_id, room.meeting_id, 0, info["name"], info["role"])
            _arrived(room, who)
        events.tell_user(
            user_id, {"type": "room.refresh", "meeting_id": room.meeting_id}
        )


def _open_doors(room: LiveRoom, who: Participant) -> None:
    """On opening: freeze the plan and seat or queue whoever is waiting."""
    if not room.plan:
        room.plan = frozen_plan(room.meeting)
        room.save(update_fields=["plan"])
    names = _names(room)
    for user_id in _connected_users(room):
        info = names.get(user_id)
        if info is None or user_id in room.state["admitted"]:
            continue
        if info["role"] != "member":
            # Facilitators are always in and already counted, but they join
            # the admitted list too, so a later demotion keeps them inside.
            room, _, _ = apply(
                who=Participant(
                    user_id, room.meeting_id, who.group_id, info["name"], info["role"]
                ),
                action="lobby.join",
                internal=True,
            )
            continue
        arriving = Participant(
            user_id, room.meeting_id, who.group_id, info["name"], info["role"]
        )
        room, _, _ = apply(who=arriving, action="lobby.join", internal=True)
        if user_id in room.state["admitted"]:
            _welcome(room, [user_id])
        else:
            events.tell_user(
                user_id, {"type": "room.refresh", "meeting_id": room.meeting_id}
            )
    events.notify_facilitators(room, _lobby_frame(room))
    # The plan was fixed just now: facilitators' screens need it.
    events.notify_facilitators(room, {"type": "plan", "plan": room.plan})


@transaction.atomic
def act(*, who: Participant, action: str, payload: dict[str, Any]) -> int | None:
    """Run a room action for a participant; returns the event's seq if any."""
    if action not in FACILITATOR_ACTIONS | MEMBER_ACTIONS:
        raise TransitionError("unknown_type", f"Unknown message type {action!r}.")
    who = recheck(who)
    if action in FACILITATOR_ACTIONS and not who.facilitates:
        # Before anything else, so a member learns nothing (not even the
        # plan's length) from a refused action.
        raise TransitionError("forbidden", f"Only facilitators can use “{action}”.")
    if action in MEMBER_ACTIONS:
        room = LiveRoom.objects.get(meeting_id=who.meeting_id)
        if not is_admitted(room, who):
            raise TransitionError("not_admitted", "You're still in the lobby.")
    if action in ("room.open", "room.start"):
        meeting = Meeting.objects.get(pk=who.meeting_id)
        if meeting.is_cancelled:
            raise TransitionError("cancelled", "This session was cancelled.")
    if action == "pin.set":
        text = payload.get("text", "")
        payload = {
            **payload,
            "text": clean_text(text, limit=MAX_PIN_LENGTH) if text.strip() else "",
        }
    if action == "prompt.show":
        room = locked_room(who.meeting_id)
        if not room.plan and who.facilitates:
            room.plan = frozen_plan(room.meeting)
            room.save(update_fields=["plan"])
        index = payload.get("index")
        if not isinstance(index, int) or not 0 <= index < len(room.plan):
            raise TransitionError("bad_index", "There is no such item in the plan.")
        payload = {**payload, "plan_length": len(room.plan), "item": room.plan[index]}
    before = (
        LiveRoom.objects.filter(meeting_id=who.meeting_id)
        .values_list("state", flat=True)
        .first()
        or {}
    )
    room, event, outcome = apply(who=who, action=action, payload=payload)
    if action in ("room.open", "room.start") and before.get("status") == "scheduled":
        _open_doors(room, who)
    elif action == "lobby.admit":
        _welcome(room, [payload["user_id"]])
        events.notify_facilitators(room, _lobby_frame(room))
    elif action == "room.auto_admit" and outcome.data.get("admitted"):
        _welcome(room, outcome.data["admitted"])
        events.notify_facilitators(room, _lobby_frame(room))
    elif action == "room.end":
        names = _names(room)
        for user_id in _connected_users(room):
            _stop_attendance(room, user_id)
            info = names.get(user_id)
            if (
                info
                and info["role"] == "member"
                and user_id not in room.state["admitted"]
            ):
                # Still waiting in the lobby: they hear of the end too.
                events.tell_user(
                    user_id, {"type": "room.refresh", "meeting_id": room.meeting_id}
                )
    return event.seq if event else None
