"""Client frames: size, JSON, shape and fields, checked before any service
runs. Every failure is a specific error code; nothing here touches the
database. The full protocol is in docs/protocol.md."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings

# type -> {field: (python types, required)}. Fields not listed are ignored,
# so a frame cannot smuggle in a sender, a role or a sequence number.
_INT = (int,)
_STR = (str,)
_BOOL = (bool,)
SCHEMAS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "join": {},
    "resume": {"after_seq": (_INT, True)},
    "ping": {},
    "chat.send": {"text": (_STR, True)},
    "reaction": {"emoji": (_STR, True)},
    "checkin": {"phase": (_STR, True), "score": (_INT, True), "word": (_STR, False)},
    "moment": {},
    "alert.ack": {"alert_id": (_INT, True)},
    # Room actions (facilitation.room.RULES).
    "room.open": {},
    "room.start": {},
    "room.pause": {},
    "room.resume": {},
    "room.end": {},
    "room.lock": {"on": (_BOOL, True)},
    "room.auto_admit": {"on": (_BOOL, True)},
    "lobby.admit": {"user_id": (_INT, True)},
    "queue.next": {},
    "queue.skip": {"user_id": (_INT, True)},
    "queue.reorder": {"order": ((list,), True)},
    "queue.clear": {},
    "prompt.show": {"index": (_INT, True), "seconds": (_INT, False)},
    "timer.set": {"seconds": (_INT, True)},
    "pin.set": {"text": (_STR, True)},
    "hand.raise": {},
    "hand.lower": {},
    "pass": {},
    # Moderation (facilitation.services.moderation).
    "report": {"seq": (_INT, True), "reason": (_STR, True), "note": (_STR, False)},
    "message.hide": {"seq": (_INT, True)},
    "message.unhide": {"seq": (_INT, True)},
    "member.mute": {"user_id": (_INT, True), "minutes": (_INT, True)},
    "member.unmute": {"user_id": (_INT, True)},
    "member.remove": {"user_id": (_INT, True), "scope": (_STR, True)},
    "held.decide": {"held_id": (_INT, True), "approve": (_BOOL, True)},
    "safety.ack": {"alert_id": (_INT, True)},
    # Asking for help (facilitation.services.support).
    "support.request": {},
    "support.not_safe": {},
    # Alert delivery (facilitation.services.alerting).
    "visibility": {"visible": (_BOOL, True)},
    # Private threads (facilitation.services.threads).
    "thread.open": {"user_id": (_INT, True)},
    "thread.send": {"thread_id": (_INT, True), "text": (_STR, True)},
    "thread.close": {"thread_id": (_INT, True)},
}
ACTION_TYPES = tuple(
    name
    for name in SCHEMAS
    if name.startswith(
        ("room.", "lobby.", "queue.", "prompt.", "timer.", "pin.", "hand.")
    )
    or name == "pass"
)
MAX_CLIENT_ID = 64
CLIENT_ID = re.compile(r"[A-Za-z0-9._:\-]{0,64}")
MAX_ORDER = 500


class FrameError(Exception):
    def __init__(self, code: str, detail: str, *, of: str = "", ref: str = "") -> None:
        super().__init__(detail)
        self.code, self.detail, self.of, self.ref = code, detail, of, ref


@dataclass(frozen=True)
class Frame:
    type: str
    fields: dict[str, Any]
    ref: str  # the client message id, "" when none


def _type_name(types: tuple[type, ...]) -> str:
    return {int: "a whole number", str: "text", bool: "true or false", list: "a list"}[
        types[0]
    ]


def parse(text: str | None, data: bytes | None, *, meeting_id: int) -> Frame:
    if text is None:
        raise FrameError("binary_not_supported", "Send JSON text frames only.")
    limit = int(settings.HEARTH["FRAME_MAX_BYTES"])
    if len(text) > limit or len(text.encode("utf-8", "surrogatepass")) > limit:
        raise FrameError(
            "too_long", f"Frames can be up to {limit} bytes.", of="", ref=""
        )
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        # ValueError covers bad JSON and numbers too long to convert;
        # RecursionError a nesting bomb.
        raise FrameError("invalid_json", "That frame isn't valid JSON.") from None
    if not isinstance(raw, dict):
        raise FrameError("bad_shape", "A frame must be a JSON object with a “type”.")
    kind = raw.get("type")
    ref = raw.get("client_msg_id", "")
    if not isinstance(ref, str) or not CLIENT_ID.fullmatch(ref):
        # Never echoed back unless it is plain and short: a lone surrogate or
        # a NUL in a reply would break the socket or the database.
        raise FrameError(
            "bad_field",
            f"“client_msg_id” must be up to {MAX_CLIENT_ID} letters, digits, "
            "dots, colons, dashes or underscores.",
        )
    if not isinstance(kind, str):
        raise FrameError("bad_shape", "A frame needs a “type”.", ref=ref)
    schema = SCHEMAS.get(kind)
    if schema is None:
        shown = kind[:40] if CLIENT_ID.fullmatch(kind[:40]) else ""
        raise FrameError("unknown_type", "Unknown message type.", of=shown, ref=ref)
    for key in ("session_id", "room_id", "meeting_id"):
        if key in raw and raw[key] != meeting_id:
            raise FrameError(
                "wrong_room", "That frame is for another session.", of=kind, ref=ref
            )
    fields: dict[str, Any] = {}
    for name, (types, required) in schema.items():
        if name not in raw:
            if required:
                raise FrameError(
                    "missing_field", f"“{name}” is required.", of=kind, ref=ref
                )
            continue
        value = raw[name]
        bad_bool = isinstance(value, bool) and bool not in types
        if not isinstance(value, types) or bad_bool:
            raise FrameError(
                "bad_field", f"“{name}” must be {_type_name(types)}.", of=kind, ref=ref
            )
        fields[name] = value
    if kind == "queue.reorder":
        order = fields["order"]
        if len(order) > MAX_ORDER or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in order
        ):
            raise FrameError(
                "bad_field", "“order” must list user ids.", of=kind, ref=ref
            )
    return Frame(kind, fields, ref)
