"""The room's state machine: pure, no I/O.

`transition(state, actor, action, now)` checks one action against the rules
and returns the new state and the public event it produces. Services apply
it under a row lock, store the event with the next sequence number and
broadcast it after commit; every rule here is a plain unit test.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

OPEN_STATUSES = ("open", "live", "paused")
MAX_TIMER_SECONDS = 60 * 60
MAX_PIN_LENGTH = 300


class TransitionError(Exception):
    """An action the rules do not allow; `code` goes to the client."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Actor:
    user_id: int
    facilitates: bool


@dataclass
class Outcome:
    state: dict[str, Any]
    kind: str  # the public event kind; "" when nothing is broadcast
    data: dict[str, Any] = field(default_factory=dict)


def _forbidden(action: str) -> TransitionError:
    return TransitionError("forbidden", f"Only facilitators can use “{action}”.")


def _require_open(state: dict[str, Any], action: str) -> None:
    if state["status"] not in OPEN_STATUSES:
        raise TransitionError("room_closed", "The room isn't open right now.")


def _require_running(state: dict[str, Any]) -> None:
    if state["status"] != "live":
        raise TransitionError("not_live", "That works once the session is live.")


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _queue_data(state: dict[str, Any]) -> dict[str, Any]:
    return {"queue": list(state["queue"]), "speaking": state["speaking"]}


def _freeze_timer(state: dict[str, Any], now: dt.datetime) -> None:
    timer = state["timer"]
    if timer["deadline"]:
        left = dt.datetime.fromisoformat(timer["deadline"]) - now
        timer["remaining"] = max(0, int(left.total_seconds()))
        timer["deadline"] = None


def _thaw_timer(state: dict[str, Any], now: dt.datetime) -> None:
    timer = state["timer"]
    if timer["remaining"] is not None and not timer["deadline"]:
        timer["deadline"] = _iso(now + dt.timedelta(seconds=timer["remaining"]))
        timer["remaining"] = None


# Each handler: (state copy, actor, payload, now) -> Outcome. The state it
# receives is a deep copy and may be changed in place.


def _open(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    if s["status"] != "scheduled":
        raise TransitionError("bad_state", "The room is already open.")
    s["status"] = "open"
    return Outcome(s, "room.status", {"status": "open"})


def _start(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    if s["status"] not in ("scheduled", "open"):
        raise TransitionError("bad_state", "The session has already started.")
    s["status"] = "live"
    return Outcome(s, "room.status", {"status": "live"})


def _pause(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    _require_running(s)
    s["status"] = "paused"
    _freeze_timer(s, now)
    return Outcome(s, "room.status", {"status": "paused", "timer": dict(s["timer"])})


def _resume(
    s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime
) -> Outcome:
    if s["status"] != "paused":
        raise TransitionError("bad_state", "The session isn't paused.")
    s["status"] = "live"
    _thaw_timer(s, now)
    return Outcome(s, "room.status", {"status": "live", "timer": dict(s["timer"])})


def _end(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    if s["status"] == "ended":
        raise TransitionError("bad_state", "The session has already ended.")
    s["status"] = "ended"
    s["queue"], s["speaking"], s["lobby"] = [], None, []
    s["timer"] = {"deadline": None, "seconds": 0, "remaining": None}
    return Outcome(s, "room.status", {"status": "ended"})


def _admit(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    _require_open(s, "admit")
    user_id = p["user_id"]
    if user_id not in s["lobby"]:
        raise TransitionError("not_waiting", "That person isn't waiting in the lobby.")
    s["lobby"].remove(user_id)
    if user_id not in s["admitted"]:
        s["admitted"].append(user_id)
    return Outcome(s, "member.admitted", {"user_id": user_id})


def _auto_admit(
    s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime
) -> Outcome:
    s["auto_admit"] = bool(p["on"])
    admitted = []
    if s["auto_admit"]:
        admitted = list(s["lobby"])
        s["admitted"] += [u for u in admitted if u not in s["admitted"]]
        s["lobby"] = []
    return Outcome(s, "room.auto_admit", {"on": s["auto_admit"], "admitted": admitted})


def _lock(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    s["locked"] = bool(p["on"])
    return Outcome(s, "room.locked", {"on": s["locked"]})


def _raise_hand(
    s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime
) -> Outcome:
    _require_running(s)
    if a.user_id in s["queue"] or s["speaking"] == a.user_id:
        raise TransitionError("already_queued", "Your hand is already up.")
    s["queue"].append(a.user_id)
    return Outcome(s, "hand.raised", {"user_id": a.user_id, **_queue_data(s)})


def _lower_hand(
    s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime
) -> Outcome:
    if a.user_id not in s["queue"]:
        raise TransitionError("not_queued", "Your hand isn't up.")
    s["queue"].remove(a.user_id)
    return Outcome(s, "hand.lowered", {"user_id": a.user_id, **_queue_data(s)})


def _pass(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    """Passing is always allowed: it takes you out of the queue or off the
    floor and tells the group, kindly, that you are passing this round."""
    _require_open(s, "pass")
    if a.user_id in s["queue"]:
        s["queue"].remove(a.user_id)
    if s["speaking"] == a.user_id:
        s["speaking"] = None
    return Outcome(s, "member.passed", {"user_id": a.user_id, **_queue_data(s)})


def _call_next(
    s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime
) -> Outcome:
    _require_running(s)
    if s["speaking"] is not None and s["speaking"] not in s["spoken"]:
        s["spoken"].append(s["speaking"])
    if not s["queue"]:
        s["speaking"] = None
        return Outcome(s, "queue.updated", _queue_data(s))
    s["speaking"] = s["queue"].pop(0)
    return Outcome(s, "speaker.called", {"user_id": s["speaking"], **_queue_data(s)})


def _skip(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    user_id = p["user_id"]
    if user_id not in s["queue"]:
        raise TransitionError("not_queued", "That person isn't in the queue.")
    s["queue"].remove(user_id)
    return Outcome(s, "queue.updated", {"skipped": user_id, **_queue_data(s)})


def _reorder(
    s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime
) -> Outcome:
    order = p["order"]
    if sorted(order) != sorted(s["queue"]) or len(set(order)) != len(order):
        raise TransitionError(
            "bad_order", "The new order must list exactly the people in the queue."
        )
    s["queue"] = list(order)
    return Outcome(s, "queue.updated", _queue_data(s))


def _clear(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    s["queue"], s["speaking"] = [], None
    return Outcome(s, "queue.updated", _queue_data(s))


def _show_prompt(
    s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime
) -> Outcome:
    _require_open(s, "prompt")
    index, count = p["index"], p["plan_length"]
    if not 0 <= index < count:
        raise TransitionError("bad_index", "There is no such item in the plan.")
    s["plan_index"] = index
    seconds = p.get("seconds") or 0
    if not 0 <= seconds <= MAX_TIMER_SECONDS:
        raise TransitionError("bad_timer", "Timers run for up to an hour.")
    s["timer"] = {
        "deadline": _iso(now + dt.timedelta(seconds=seconds)) if seconds else None,
        "seconds": seconds,
        "remaining": None,
    }
    if s["status"] == "paused":
        _freeze_timer(s, now)
    data = {"index": index, "timer": dict(s["timer"])}
    if p.get("item"):
        data["item"] = p["item"]
    return Outcome(s, "prompt.shown", data)


def _timer(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    _require_running(s)
    seconds = p["seconds"]
    if not 0 <= seconds <= MAX_TIMER_SECONDS:
        raise TransitionError("bad_timer", "Timers run for up to an hour.")
    s["timer"] = {
        "deadline": _iso(now + dt.timedelta(seconds=seconds)) if seconds else None,
        "seconds": seconds,
        "remaining": None,
    }
    return Outcome(s, "timer.set", {"timer": dict(s["timer"])})


def _pin(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    text = p["text"]
    if len(text) > MAX_PIN_LENGTH:
        raise TransitionError(
            "too_long", f"A pinned note can be up to {MAX_PIN_LENGTH} characters."
        )
    s["pinned"] = text
    return Outcome(s, "pin.set", {"text": text})


def _lobby_join(
    s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime
) -> Outcome:
    """Someone arrives: admitted straight away when they were before, when
    auto-admit is on, or when they facilitate; otherwise they wait."""
    if a.user_id in s["admitted"]:
        return Outcome(s, "")
    if a.facilitates or s["auto_admit"]:
        s["admitted"].append(a.user_id)
        return Outcome(s, "")
    if a.user_id not in s["lobby"]:
        s["lobby"].append(a.user_id)
    return Outcome(s, "")


def _leave(s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime) -> Outcome:
    """The person's last socket closed: out of the lobby and the queue."""
    user_id = p.get("user_id", a.user_id)
    queued = user_id in s["queue"]
    s["lobby"] = [u for u in s["lobby"] if u != user_id]
    s["queue"] = [u for u in s["queue"] if u != user_id]
    if not queued:
        # Lobby comings and goings are the facilitators' business only.
        return Outcome(s, "")
    return Outcome(s, "queue.updated", _queue_data(s))


def _remove(
    s: dict[str, Any], a: Actor, p: dict[str, Any], now: dt.datetime
) -> Outcome:
    """Taken out of the session by a facilitator (or by losing membership)."""
    user_id = p["user_id"]
    s["lobby"] = [u for u in s["lobby"] if u != user_id]
    s["queue"] = [u for u in s["queue"] if u != user_id]
    s["admitted"] = [u for u in s["admitted"] if u != user_id]
    s["removed"] = [*s.get("removed", []), user_id]
    if s["speaking"] == user_id:
        s["speaking"] = None
    return Outcome(s, "member.removed", {"user_id": user_id, **_queue_data(s)})


# action -> (handler, facilitators only?)
RULES = {
    "room.open": (_open, True),
    "room.start": (_start, True),
    "room.pause": (_pause, True),
    "room.resume": (_resume, True),
    "room.end": (_end, True),
    "room.lock": (_lock, True),
    "room.auto_admit": (_auto_admit, True),
    "lobby.admit": (_admit, True),
    "queue.next": (_call_next, True),
    "queue.skip": (_skip, True),
    "queue.reorder": (_reorder, True),
    "queue.clear": (_clear, True),
    "prompt.show": (_show_prompt, True),
    "timer.set": (_timer, True),
    "pin.set": (_pin, True),
    "member.remove": (_remove, True),
    "hand.raise": (_raise_hand, False),
    "hand.lower": (_lower_hand, False),
    "pass": (_pass, False),
    # Internal: arrivals and departures, applied by the services.
    "lobby.join": (_lobby_join, False),
    "member.leave": (_leave, False),
}


def transition(
    state: dict[str, Any],
    *,
    actor: Actor,
    action: str,
    payload: dict[str, Any] | None = None,
    now: dt.datetime,
) -> Outcome:
    """Apply one action to a copy of the state, or raise TransitionError."""
    try:
        handler, facilitators_only = RULES[action]
    except KeyError:
        raise TransitionError("unknown_action", f"Unknown action {action!r}.") from None
    if facilitators_only and not actor.facilitates:
        raise _forbidden(action)
    if state["status"] == "ended" and action not in ("member.leave",):
        raise TransitionError("room_closed", "This session has ended.")
    return handler(copy.deepcopy(state), actor, payload or {}, now)
