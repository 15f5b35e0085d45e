"""Moderation in the room: reports, hiding, mutes, removal, held messages.

The decisions about safety (scores, strikes, audit rows, alerts) are the
safety app's; this module applies them to the room's log and sockets.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from facilitation import events
from facilitation.models import LiveRoom, RoomEvent
from facilitation.room import TransitionError
from groups import services as group_services
from groups.models import Meeting, SupportGroup
from safety import services as safety

from .rooms import Participant, append_event, apply, locked_room, recheck

log = logging.getLogger("hearth.room")

MUTE_CHOICES = (5, 15, 60, 0)  # minutes; 0 means until the session ends


def _as_transition(error: ValidationError | PermissionDenied) -> TransitionError:
    if isinstance(error, PermissionDenied):
        return TransitionError("forbidden", str(error) or "You can't do that.")
    return TransitionError("refused", " ".join(error.messages))


def _event(room: LiveRoom, seq: Any) -> RoomEvent:
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise TransitionError("bad_field", "“seq” must be a number.")
    event = RoomEvent.objects.filter(room=room, seq=seq).first()
    if event is None:
        raise TransitionError("not_found", "There is no such message.")
    return event


def _require_facilitator(who: Participant) -> None:
    if not who.facilitates:
        raise TransitionError("forbidden", "Only facilitators can do that.")


def set_hidden(room: LiveRoom, event: RoomEvent, *, hidden: bool) -> RoomEvent | None:
    """Hide or show a chat message for everyone; history and resume show a
    tombstone while it is hidden. Returns the public event, if any."""
    if event.kind != "chat.message" or event.hidden == hidden:
        return None
    if not hidden and not event.data.get("text"):
        return None  # its text is gone (retention): nothing to show again
    event.hidden = hidden
    event.save(update_fields=["hidden"])
    if hidden:
        # Earlier "unhidden" events carry the text again: hide them too, so
        # history and resume never bring it back.
        RoomEvent.objects.filter(
            room=room, kind="message.unhidden", data__seq=event.seq
        ).update(hidden=True)
        data: dict[str, Any] = {"seq": event.seq}
        kind = "message.hidden"
    else:
        data = {"seq": event.seq, **event.data}
        kind = "message.unhidden"
    return append_event(room, kind=kind, actor_id=None, data=data)


@transaction.atomic
def report(*, who: Participant, seq: Any, reason: Any, note: Any = "") -> bool:
    """A member reports a message. Returns whether it is now hidden."""
    who = recheck(who)
    room = locked_room(who.meeting_id)
    event = _event(room, seq)
    if event.kind != "chat.message":
        raise TransitionError("not_found", "Only chat messages can be reported.")
    reporter = User.objects.get(pk=who.user_id)
    try:
        outcome = safety.report_message(
            reporter=reporter,
            group=SupportGroup.objects.get(pk=who.group_id),
            event_id=event.pk,
            reason=reason if isinstance(reason, str) else "",
            author=event.actor_id,
            meeting=room.meeting,
            note=note if isinstance(note, str) else "",
        )
    except (ValidationError, PermissionDenied) as error:
        raise _as_transition(error) from error
    if outcome.should_hide:
        set_hidden(room, event, hidden=True)
    return bool(outcome.should_hide)


@transaction.atomic
def hide(*, who: Participant, seq: Any, hidden: bool) -> int | None:
    who = recheck(who)
    _require_facilitator(who)
    room = locked_room(who.meeting_id)
    event = _event(room, seq)
    changed = set_hidden(room, event, hidden=hidden)
    safety.audit(
        User.objects.get(pk=who.user_id),
        "message.hide" if hidden else "message.unhide",
        target=event,
        group=who.group_id,
    )
    return changed.seq if changed else None


def _member(who: Participant, user_id: Any) -> User:
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise TransitionError("bad_field", "“user_id” must be a number.")
    target = User.objects.filter(pk=user_id, memberships__group_id=who.group_id).first()
    if target is None:
        raise TransitionError("not_found", "That person isn't in this group.")
    return target


@transaction.atomic
def mute(*, who: Participant, user_id: Any, minutes: Any) -> str:
    """Mute a member in this group for 5, 15 or 60 minutes, or (0) until the
    session ends. Returns when the mute ends (ISO time)."""
    who = recheck(who)
    _require_facilitator(who)
    if minutes not in MUTE_CHOICES or isinstance(minutes, bool):
        raise TransitionError(
            "bad_field", "Mute for 5, 15 or 60 minutes, or the session."
        )
    target = _member(who, user_id)
    actor = User.objects.get(pk=who.user_id)
    group = SupportGroup.objects.get(pk=who.group_id)
    try:
        if minutes:
            done = safety.mute_member(
                group=group, user=target, by=actor, minutes=minutes
            )
        else:
            ends = Meeting.objects.get(pk=who.meeting_id).ends_at
            until = max(ends, timezone.now() + dt.timedelta(minutes=5))
            done = safety.mute_member(group=group, user=target, by=actor, until=until)
    except (ValidationError, PermissionDenied) as error:
        raise _as_transition(error) from error
    until_text = done.until.isoformat()
    events.tell_user(
        target.pk,
        {
            "type": "room.private",
            "meeting_id": who.meeting_id,
            "frame": {"type": "muted", "until": until_text},
        },
    )
    return until_text


@transaction.atomic
def unmute(*, who: Participant, user_id: Any) -> None:
    who = recheck(who)
    _require_facilitator(who)
    target = _member(who, user_id)
    try:
        safety.unmute_member(
            group=SupportGroup.objects.get(pk=who.group_id),
            user=target,
            by=User.objects.get(pk=who.user_id),
        )
    except (ValidationError, PermissionDenied) as error:
        raise _as_transition(error) from error
    events.tell_user(
        target.pk,
        {
            "type": "room.private",
            "meeting_id": who.meeting_id,
            "frame": {"type": "unmuted"},
        },
    )


@transaction.atomic
def remove(*, who: Participant, user_id: Any, scope: Any) -> int | None:
    """Take someone out of this session (they can't come back to it), or
    out of the group altogether. Their sockets close within the second."""
    who = recheck(who)
    _require_facilitator(who)
    if scope not in ("session", "group"):
        raise TransitionError("bad_field", "“scope” must be “session” or “group”.")
    target = _member(who, user_id)
    if target.pk == who.user_id:
        raise TransitionError("refused", "You can't remove yourself.")
    actor = User.objects.get(pk=who.user_id)
    if scope == "group":
        group = SupportGroup.objects.get(pk=who.group_id)
        membership = group.memberships.get(user=target)
        try:
            # Leads only; the membership's deletion closes the sockets.
            group_services.remove_member(
                group=group, by=actor, membership_id=membership.pk
            )
        except (ValidationError, PermissionDenied) as error:
            raise _as_transition(error) from error
    _, event, _ = apply(who=who, action="member.remove", payload={"user_id": target.pk})
    events.tell_user(
        target.pk,
        {"type": "room.kick", "meeting_id": who.meeting_id, "code": 4403},
    )
    safety.audit(actor, f"member.remove.{scope}", target=target, group=who.group_id)
    log.info(
        "member removed room=%s user=%s scope=%s", who.meeting_id, target.pk, scope
    )
    return event.seq if event else None


@transaction.atomic
def decide_held(*, who: Participant, held_id: Any, approve: Any) -> int | None:
    """Approve (publish to the room) or reject a held message."""
    who = recheck(who)
    _require_facilitator(who)
    if not isinstance(held_id, int) or not isinstance(approve, bool):
        raise TransitionError("bad_field", "Give “held_id” and “approve”.")
    from safety.models import HeldMessage

    if not HeldMessage.objects.filter(pk=held_id, meeting_id=who.meeting_id).exists():
        raise TransitionError("not_found", "No such held message.")
    try:
        safety.decide_held(
            held_id=held_id, by=User.objects.get(pk=who.user_id), approve=approve
        )
    except (ValidationError, PermissionDenied) as error:
        raise _as_transition(error) from error
    # Publishing happens in the held_message_decided receiver (receivers.py),
    # so approvals from the moderation queue page reach the room too.
    return None


@transaction.atomic
def acknowledge_safety_alert(*, who: Participant, alert_id: Any) -> None:
    who = recheck(who)
    _require_facilitator(who)
    from safety.models import SafetyAlert

    if not SafetyAlert.objects.filter(pk=alert_id, meeting_id=who.meeting_id).exists():
        raise TransitionError("not_found", "No such alert.")
    try:
        safety.acknowledge_alert(alert_id=alert_id, by=User.objects.get(pk=who.user_id))
    except (ValidationError, PermissionDenied) as error:
        raise _as_transition(error) from error


def publish_approved(held: Any, text: str) -> int | None:
    """An approved held message joins the room's log as its author's."""
    room = locked_room(held.meeting_id)
    author = held.author
    from groups.models import Membership

    membership = Membership.objects.filter(group_id=held.group_id, user=author).first()
    if membership is None:
        return None
    event = append_event(
        room,
        kind="chat.message",
        actor_id=author.pk,
        data={
            "user_id": author.pk,
            "name": membership.shown_name,
            "role": membership.role,
            "text": text,
        },
    )
    return event.seq
