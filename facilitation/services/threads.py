"""Private threads: a facilitator checks in with one member, in the room.

Only that member and the group's facilitators (lead and co-facilitators)
see a thread; every command re-checks the caller's standing first, so a
member removed from the group or a demoted co-facilitator loses access at
once. Lines are screened with chat's rules; a held line is stored nowhere.
See docs/protocol.md ("Private threads") and docs/safety.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from facilitation import events
from facilitation.models import LiveRoom, PrivateThread, ThreadMessage
from facilitation.room import TransitionError
from groups.models import FACILITATING_ROLES, Membership, SupportGroup
from safety import services as safety
from safety.notices import render_notice

from .messages import CHAT_STATUSES, _flood_check, clean_text, facilitators_connected
from .presence import _names
from .rooms import Participant, locked_room, recheck

log = logging.getLogger("hearth.room")

# Lines sent with a thread's state (on open and on every join).
HISTORY = 200
NOT_FOUND = "There is no such conversation."
# Said to the sender of a held line: nobody reviews it, so no "waiting".
HELD_EXPLANATION = "This message was not passed on in your private conversation."


@dataclass(frozen=True)
class ThreadSent:
    """What became of a thread line: `message_id` is None unless it was
    passed on; `card` and `notice` go to the sender alone."""

    thread_id: int
    message_id: int | None
    status: str = "delivered"  # delivered, held, blocked
    card: dict[str, Any] | None = None
    notice: str = ""


def _int(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TransitionError("bad_field", f"“{name}” must be a number.")
    return value


def _visible(who: Participant, thread_id: Any) -> PrivateThread:
    """The thread, if `who` (already re-checked) may see it. Someone else's
    thread and a missing one get the same answer."""
    threads = PrivateThread.objects.filter(
        pk=_int(thread_id, "thread_id"), room__meeting_id=who.meeting_id
    )
    if not who.facilitates:
        threads = threads.filter(member_id=who.user_id)
    thread = threads.first()
    if thread is None:
        raise TransitionError("not_found", NOT_FOUND)
    return thread


def _still_member(who: Participant, member_id: int) -> bool:
    return Membership.objects.filter(
        group_id=who.group_id, user_id=member_id, user__is_active=True
    ).exists()


def line(message: ThreadMessage, names: dict[int, dict[str, str]]) -> dict[str, Any]:
    person = names.get(message.author_id or 0, {})
    data: dict[str, Any] = {
        "id": message.pk,
        "user_id": message.author_id,
        "name": person.get("name", ""),
        "role": person.get("role", ""),
        "text": message.text,
        "at": message.created_at.isoformat(),
    }
    if message.note:
        data["note"] = True
    return data


def thread_frame(
    thread: PrivateThread, room: LiveRoom, lines: list[ThreadMessage] | None = None
) -> dict[str, Any]:
    """A thread as its member and the facilitators see it: the `thread` frame."""
    names = _names(room)
    if lines is None:
        lines = list(thread.messages.order_by("-created_at", "-pk")[:HISTORY])[::-1]
    return {
        "type": "thread",
        "thread": {
            "id": thread.pk,
            "member_id": thread.member_id,
            "member_name": names.get(thread.member_id, {}).get("name", ""),
            "opened_by": thread.opened_by_id,
            "opened_at": thread.opened_at.isoformat(),
            "open": thread.closed_at is None,
            "messages": [line(m, names) for m in lines],
        },
    }


@transaction.atomic
def open_thread(*, who: Participant, user_id: Any) -> int:
    """A facilitator opens a private thread with a member of the group, or
    gets the one already open (one per member and session). Returns its id."""
    who = recheck(who)
    if not who.facilitates:
        raise TransitionError("forbidden", "Only facilitators can do that.")
    member_id = _int(user_id, "user_id")
    role = (
        Membership.objects.filter(
            group_id=who.group_id, user_id=member_id, user__is_active=True
        )
        .values_list("role", flat=True)
        .first()
    )
    if role is None or role in FACILITATING_ROLES:
        raise TransitionError("not_found", "That person isn't a member of this group.")
    room = locked_room(who.meeting_id)
    if member_id in room.state.get("removed", []):
        raise TransitionError("not_found", "That person isn't a member of this group.")
    if room.status not in CHAT_STATUSES:
        raise TransitionError("room_closed", "The room isn't open right now.")
    thread = PrivateThread.objects.filter(
        room=room, member_id=member_id, closed_at__isnull=True
    ).first()
    if thread is None:
        thread = PrivateThread.objects.create(
            room=room, member_id=member_id, opened_by_id=who.user_id
        )
        events.tell_thread(room, member_id, thread_frame(thread, room, []))
        log.info(
            "thread opened room=%s thread=%s by=%s member=%s",
            who.meeting_id,
            thread.pk,
            who.user_id,
            member_id,
        )
    return thread.pk


def send_to_thread(
    *, who: Participant, thread_id: Any, text: Any, client_msg_id: str
) -> ThreadSent:
    """Screen a thread line with chat's rules (length, rate limits, crisis
    tiers and word filters), then store it and pass it on, or not.

    A held line is not stored and not shown to the other side; its sender
    gets the crisis card and facilitators the alert (tiers, never text). A
    resend with the same client id gets the first answer."""
    body = clean_text(text, limit=settings.HEARTH["CHAT_MAX_CHARS"])
    who = recheck(who)
    _visible(who, thread_id)
    _flood_check(who)
    with transaction.atomic():
        room = locked_room(who.meeting_id)
        thread = _visible(who, thread_id)
        if client_msg_id:
            earlier = thread.messages.filter(
                author_id=who.user_id, client_msg_id=client_msg_id
            ).first()
            if earlier is not None:
                return ThreadSent(thread.pk, earlier.pk)
        if thread.closed_at is not None:
            raise TransitionError("thread_closed", "This conversation was closed.")
        if room.status not in CHAT_STATUSES:
            raise TransitionError("room_closed", "The room isn't open right now.")
        if not _still_member(who, thread.member_id):
            raise TransitionError("not_found", NOT_FOUND)
        assessment = safety.assess_message(
            group=SupportGroup.objects.get(pk=who.group_id),
            author=User.objects.get(pk=who.user_id),
            text=body,
            facilitators_connected=lambda: facilitators_connected(room),
            meeting=room.meeting,
            client_msg_id=client_msg_id,
            source="thread",
        )
        message = None
        if assessment.delivered:
            message = ThreadMessage.objects.create(
                thread=thread,
                author_id=who.user_id,
                text=body,
                note=assessment.action == "deliver_with_note",
                client_msg_id=client_msg_id,
            )
            events.tell_thread(
                room,
                thread.member_id,
                {
                    "type": "thread.message",
                    "thread_id": thread.pk,
                    "message": line(message, _names(room)),
                },
            )
    status = {"hold": "held", "block": "blocked"}.get(assessment.action, "delivered")
    notice = assessment.notice
    if status == "held":
        notice = render_notice("held", explanation=HELD_EXPLANATION)
    card = dict(assessment.card) if assessment.card else None
    if card and status == "held" and card.get("notice"):
        # The card's own line speaks of "the group"; here there is none.
        told = " The group's facilitators have been told." if assessment.alert else ""
        card["notice"] = HELD_EXPLANATION + told
    # Ids, sizes and outcomes only: never the text (docs/safety.md).
    log.info(
        "thread line room=%s thread=%s user=%s chars=%s status=%s tier=%s",
        who.meeting_id,
        thread.pk,
        who.user_id,
        len(body),
        status,
        assessment.tier,
    )
    return ThreadSent(
        thread.pk,
        message.pk if message else None,
        status=status,
        card=card,
        notice=notice,
    )


@transaction.atomic
def close_thread(*, who: Participant, thread_id: Any) -> None:
    """Close a thread. The member may always step away; any of the group's
    facilitators may close it too. Closing twice changes nothing."""
    who = recheck(who)
    room = locked_room(who.meeting_id)
    thread = _visible(who, thread_id)
    if thread.closed_at is not None:
        return
    thread.closed_at, thread.closed_by_id = timezone.now(), who.user_id
    thread.save(update_fields=["closed_at", "closed_by"])
    by = "member" if who.user_id == thread.member_id else "facilitator"
    events.tell_thread(
        room,
        thread.member_id,
        {"type": "thread.closed", "thread_id": thread.pk, "by": by},
    )
    log.info("thread closed room=%s thread=%s by=%s", who.meeting_id, thread.pk, by)


def open_threads(*, who: Participant) -> list[dict[str, Any]]:
    """The open threads a socket that (re)joined may see (as in the `thread`
    frame): the member's own, or every one of the room for a facilitator.
    Every join asks, so a room without open threads costs one query."""
    found = list(
        PrivateThread.objects.filter(
            room__meeting_id=who.meeting_id, closed_at__isnull=True
        ).select_related("room")
    )
    if not found:
        return []
    try:
        who = recheck(who)
    except PermissionDenied:
        return []
    return [
        thread_frame(thread, thread.room)["thread"]
        for thread in found
        if who.facilitates or thread.member_id == who.user_id
    ]


def may_receive(*, who: Participant, member_id: int, to: str) -> bool:
    """Whether a thread frame may still go to this socket's person: the
    member while in the group, facilitators while they facilitate."""
    try:
        who = recheck(who)
    except PermissionDenied:
        return False
    if to == "member":
        return who.user_id == member_id
    return who.facilitates and who.user_id != member_id


def threads_in(meeting_id: int) -> int:
    """How many private threads a session had: all moderators ever see of
    them (docs/safety.md)."""
    return PrivateThread.objects.filter(room__meeting_id=meeting_id).count()
