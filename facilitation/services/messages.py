"""What members say and signal: chat, reactions, check-ins, "I need a moment"."""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.models import User
from facilitation import events, ratelimit
from facilitation.models import (
    CheckIn,
    FacilitatorAlert,
    LiveRoom,
    RoomConnection,
    RoomEvent,
)
from facilitation.room import TransitionError
from groups.models import FACILITATING_ROLES, Meeting, SupportGroup
from safety import services as safety
from safety.models import HeldMessage

from .presence import checkin_summary, is_admitted
from .rooms import Participant, append_event, locked_room, recheck, standing

log = logging.getLogger("hearth.room")

REACTIONS = ("heart", "thanks", "hug", "clap", "strength", "sparkle")
CHAT_STATUSES = ("open", "live", "paused")


@dataclass(frozen=True)
class Sent:
    """What became of a chat message. `seq` is None when it was not posted
    (held for a facilitator, or blocked); `card` and `notice` go to the
    sender alone, in the same round trip."""

    seq: int | None
    duplicate: bool
    status: str = "delivered"  # delivered, held, blocked
    card: dict[str, Any] | None = None
    notice: str = ""
    checkin: bool = False  # offer the sender the gentle check-in
    # An alert to email once the reply has left (consumers.after_reply).
    email_alert_id: int | None = None


def clean_text(text: Any, *, limit: int) -> str:
    """Normalise a chat body; raise TransitionError with a specific code."""
    if not isinstance(text, str):
        raise TransitionError("bad_field", "“text” must be a string.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise TransitionError(
            "bad_text", "The message has invalid characters."
        ) from None
    if "\x00" in text:
        raise TransitionError("bad_text", "The message has invalid characters.")
    text = unicodedata.normalize("NFC", text).strip()
    text = "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc"
    )
    if not text:
        raise TransitionError("empty", "Write something first, or pass.")
    if len(text) > limit:
        raise TransitionError(
            "too_long",
            f"Messages can be up to {limit} characters.",
        )
    return text


def _flood_check(who: Participant) -> None:
    key = f"{who.user_id}"
    verdict = ratelimit.check(
        f"chat:{key}",
        per_minute=settings.HEARTH["CHAT_RATE_PER_MINUTE"],
        burst=settings.HEARTH["CHAT_BURST"],
        muted_key=f"{who.meeting_id}:{who.user_id}",
    )
    if verdict.muted_until:
        raise MutedError(verdict.muted_until)
    if verdict.allowed:
        return
    strikes = ratelimit.strike(
        f"flood:{key}", window=settings.HEARTH["FLOOD_WINDOW_SECONDS"]
    )
    if strikes >= settings.HEARTH["FLOOD_BREACHES"]:
        seconds = settings.HEARTH["FLOOD_MUTE_SECONDS"]
        ratelimit.mute(f"{who.meeting_id}:{who.user_id}", seconds)
        room = LiveRoom.objects.get(meeting_id=who.meeting_id)
        with transaction.atomic():
            alert = FacilitatorAlert.objects.create(
                room=room, user_id=who.user_id, kind=FacilitatorAlert.Kind.FLOOD
            )
        events.notify_facilitators(
            room,
            {
                "type": "alert",
                "id": alert.pk,
                "kind": "flood",
                "user_id": who.user_id,
                "name": who.name,
                "at": alert.created_at.isoformat(),
            },
        )
        log.info("flood mute room=%s user=%s", who.meeting_id, who.user_id)
    raise RateLimited(verdict.retry_after)


class RateLimited(TransitionError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "rate_limited", "You're sending messages quickly; take a breath."
        )
        self.retry_after = retry_after


class MutedError(TransitionError):
    def __init__(self, until: int) -> None:
        super().__init__("muted", "You can't send messages for a little while.")
        self.until = dt.datetime.fromtimestamp(until, tz=dt.UTC).isoformat()


def _require_in_room(room: LiveRoom, who: Participant) -> None:
    if not is_admitted(room, who):
        raise TransitionError("not_admitted", "You're still in the lobby.")
    if room.status not in CHAT_STATUSES:
        raise TransitionError("room_closed", "The room isn't open right now.")


def send_chat(*, who: Participant, text: Any, client_msg_id: str) -> Sent:
    """Screen a chat message, then store it with the next sequence number and
    broadcast it, or hold it for a facilitator, or refuse it.

    Screening runs here, synchronously and before anything is stored, and
    needs neither Celery nor the channel layer: a member at risk gets the
    crisis card in the reply to this very frame. A resend with the same
    client id gets the original answer and is not stored again.

    This is the room's hottest path, so it keeps to a few round trips: one
    query for the sender's standing (membership, account, mute), the rate
    limits in the shared cache, then, under the room's row lock, the resend
    check, the insert and the sequence bump."""
    body = clean_text(text, limit=settings.HEARTH["CHAT_MAX_CHARS"])
    try:
        who, author = _standing(who)
        # Outside the write transaction: a flood alert must survive the refusal.
        _flood_check(who)
    except (MutedError, RateLimited):
        # A resend of something already answered gets that answer, even now.
        earlier = _earlier(who, client_msg_id) if client_msg_id else None
        if earlier is not None:
            return earlier
        raise
    with transaction.atomic():
        room = locked_room(who.meeting_id)
        if client_msg_id:
            # Under the lock: a resend racing on another socket waits for the
            # first to commit, then finds it here.
            earlier = _earlier(who, client_msg_id)
            if earlier is not None:
                return earlier
        _require_can_chat(room, who)
        # The session and group load only if screening or filters need them.
        meeting = cast(Meeting, SimpleLazyObject(lambda: room.meeting))
        assessment = safety.assess_message(
            group=cast(SupportGroup, SimpleLazyObject(lambda: meeting.group)),
            author=author,
            text=body,
            facilitators_connected=lambda: facilitators_connected(room),
            meeting=meeting,
            client_msg_id=client_msg_id,
            defer_emails=True,
        )
        seq = None
        if assessment.delivered:
            data = {
                "user_id": who.user_id,
                "name": who.name,
                "role": who.role,
                "text": body,
            }
            if assessment.action == "deliver_with_note":
                data["note"] = True  # shown behind a content note
            seq = append_event(
                room,
                kind="chat.message",
                actor_id=who.user_id,
                data=data,
                client_msg_id=client_msg_id,
            ).seq
        elif assessment.held is not None:
            events.notify_facilitators(room, held_frame(assessment.held, who.name))
    status = {"hold": "held", "block": "blocked"}.get(assessment.action, "delivered")
    # Only ids, sizes and outcomes in logs, never the text.
    log.info(
        "chat room=%s user=%s seq=%s chars=%s status=%s tier=%s",
        who.meeting_id,
        who.user_id,
        seq,
        len(body),
        status,
        assessment.tier,
    )
    return Sent(
        seq,
        duplicate=False,
        status=status,
        card=dict(assessment.card) if assessment.card else None,
        notice=assessment.notice,
        checkin=assessment.checkin,
        email_alert_id=assessment.email_alert_id,
    )


def _standing(who: Participant) -> tuple[Participant, User]:
    """The sender re-checked (see `standing`); MutedError when muted. The
    account comes back lazily: an ordinary message never needs it, a
    flagged one loads it."""
    who, muted = standing(who)
    if muted:
        mute_row = safety.active_mute(who.group_id, who.user_id)
        if mute_row is not None:
            raise MutedError(int(mute_row.until.timestamp()))
    user_id = who.user_id
    return who, cast(User, SimpleLazyObject(lambda: User.objects.get(pk=user_id)))


def _earlier(who: Participant, client_msg_id: str) -> Sent | None:
    """The answer already given to a message with this client id, if any:
    stored (its seq) or held (no seq). One query for both."""
    event, room, held = (
        RoomEvent._meta.db_table,
        LiveRoom._meta.db_table,
        HeldMessage._meta.db_table,
    )
    mine: list[int | str] = [who.meeting_id, who.user_id, client_msg_id]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT (
                SELECT e.seq FROM {event} e INNER JOIN {room} r ON r.id = e.room_id
                WHERE r.meeting_id = %s AND e.actor_id = %s AND e.client_msg_id = %s
            ), EXISTS (
                SELECT 1 FROM {held} h
                WHERE h.meeting_id = %s AND h.author_id = %s AND h.client_msg_id = %s
            )
            """,
            mine + mine,
        )
        seq, was_held = cursor.fetchone()
    if seq is not None:
        return Sent(seq, duplicate=True)
    if was_held:
        return Sent(None, duplicate=True, status="held")
    return None


def facilitators_connected(room: LiveRoom) -> bool:
    """Someone can see an alert now: a facilitator's room socket is fresh and
    its tab is visible, or was within ALERT_VISIBLE_SECONDS (the hidden-tab
    rule, docs/safety.md). Otherwise imminent alerts are emailed at once."""
    now = timezone.now()
    fresh = now - dt.timedelta(seconds=settings.HEARTH["PRESENCE_TTL_SECONDS"])
    seen = now - dt.timedelta(seconds=settings.HEARTH["ALERT_VISIBLE_SECONDS"])
    return (
        RoomConnection.objects.filter(
            room=room,
            last_seen__gte=fresh,
            user__memberships__group__meetings=room.meeting_id,
            user__memberships__role__in=FACILITATING_ROLES,
        )
        .filter(Q(visible=True) | Q(visible_at__gte=seen))
        .exists()
    )


def held_frame(held: Any, name: str) -> dict[str, Any]:
    """A held message, for facilitators' eyes only."""
    return {
        "type": "held",
        "id": held.pk,
        "user_id": held.author_id,
        "name": name,
        "text": held.text,
        "tier": held.tier,
        "reasons": list(held.reasons),
        "at": held.created_at.isoformat(),
    }


def _require_can_chat(room: LiveRoom, who: Participant) -> None:
    _require_in_room(room, who)
    if room.state["locked"] and not who.facilitates:
        raise TransitionError("locked", "The facilitator has paused the chat for now.")


@transaction.atomic
def react(*, who: Participant, emoji: Any) -> int:
    who = recheck(who)
    if emoji not in REACTIONS:
        raise TransitionError("bad_reaction", f"Choose one of: {', '.join(REACTIONS)}.")
    verdict = ratelimit.check(
        f"react:{who.user_id}",
        per_minute=settings.HEARTH["REACTIONS_PER_MINUTE"],
        burst=10,
    )
    if not verdict.allowed:
        raise RateLimited(verdict.retry_after)
    room = locked_room(who.meeting_id)
    _require_in_room(room, who)
    event = append_event(
        room,
        kind="reaction",
        actor_id=who.user_id,
        data={"user_id": who.user_id, "emoji": emoji},
    )
    return event.seq


@transaction.atomic
def check_in(*, who: Participant, phase: Any, score: Any, word: Any = "") -> int:
    """A 1-5 check-in or check-out with an optional word. The group only
    ever sees the anonymous distribution, and only from 3 answers."""
    who = recheck(who)
    if phase not in ("in", "out"):
        raise TransitionError("bad_field", "“phase” must be “in” or “out”.")
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise TransitionError(
            "bad_field", "“score” must be a whole number from 1 to 5."
        )
    word = word or ""
    if not isinstance(word, str):
        raise TransitionError("bad_field", "“word” must be text.")
    word = " ".join(clean_text(word, limit=30).split()) if word.strip() else ""
    room = locked_room(who.meeting_id)
    if phase == "out" and room.status == "ended":
        # Checking out is still welcome just after the end.
        if not is_admitted(room, who):
            raise TransitionError("not_admitted", "You're still in the lobby.")
    else:
        _require_in_room(room, who)
    CheckIn.objects.update_or_create(
        room=room,
        user_id=who.user_id,
        phase=phase,
        defaults={"score": score, "word": word, "created_at": timezone.now()},
    )
    event = append_event(
        room, kind="checkin.summary", actor_id=None, data=checkin_summary(room, phase)
    )
    return event.seq


@transaction.atomic
def need_a_moment(*, who: Participant) -> None:
    """A private signal: only facilitators are told, nobody else sees it."""
    who = recheck(who)
    verdict = ratelimit.check(f"moment:{who.user_id}", per_minute=6, burst=3)
    if not verdict.allowed:
        raise RateLimited(verdict.retry_after)
    room = locked_room(who.meeting_id)
    _require_in_room(room, who)
    alert = FacilitatorAlert.objects.create(
        room=room, user_id=who.user_id, kind=FacilitatorAlert.Kind.MOMENT
    )
    events.notify_facilitators(
        room,
        {
            "type": "alert",
            "id": alert.pk,
            "kind": "moment",
            "user_id": who.user_id,
            "name": who.name,
            "at": alert.created_at.isoformat(),
        },
    )


@transaction.atomic
def acknowledge_alert(*, who: Participant, alert_id: Any) -> None:
    if not who.facilitates:
        raise TransitionError("forbidden", "Only facilitators can do that.")
    if not isinstance(alert_id, int) or isinstance(alert_id, bool):
        raise TransitionError("bad_field", "“alert_id” must be a number.")
    updated = FacilitatorAlert.objects.filter(
        pk=alert_id, room__meeting_id=who.meeting_id, acknowledged_at__isnull=True
    ).update(acknowledged_at=timezone.now())
    if not updated:
        raise TransitionError("not_found", "No such alert.")
