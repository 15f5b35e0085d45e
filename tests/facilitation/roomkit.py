"""Shared pieces for the state-machine tests: actors, a clock, states."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from facilitation.models import initial_state
from facilitation.room import Actor, Outcome, TransitionError, transition

NOW = dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.UTC)
FAC = Actor(1, facilitates=True)
ANN = Actor(2, facilitates=False)
BEN = Actor(3, facilitates=False)
CAL = Actor(4, facilitates=False)

FACILITATOR_ONLY = {
    "room.open",
    "room.start",
    "room.pause",
    "room.resume",
    "room.end",
    "room.lock",
    "room.auto_admit",
    "lobby.admit",
    "queue.next",
    "queue.skip",
    "queue.reorder",
    "queue.clear",
    "prompt.show",
    "timer.set",
    "pin.set",
    "member.remove",
}
FOR_EVERYONE = {"hand.raise", "hand.lower", "pass", "lobby.join", "member.leave"}
PLAN_ITEM = {"index": 1, "title": "Asking", "kind": "discussion"}

# A payload each action accepts, for the table-driven tests below.
PAYLOADS: dict[str, dict[str, Any]] = {
    "room.lock": {"on": True},
    "room.auto_admit": {"on": True},
    "lobby.admit": {"user_id": CAL.user_id},
    "queue.skip": {"user_id": ANN.user_id},
    "queue.reorder": {"order": [BEN.user_id, ANN.user_id]},
    "prompt.show": {"index": 1, "plan_length": 3, "seconds": 60},
    "timer.set": {"seconds": 90},
    "pin.set": {"text": "Water is in the kitchen."},
    "member.remove": {"user_id": BEN.user_id},
}


def state(**changes: Any) -> dict[str, Any]:
    s = initial_state()
    s.update(changes)
    return s


def busy(status: str = "live") -> dict[str, Any]:
    """A room with people in every list and a running timer."""
    return state(
        status=status,
        admitted=[ANN.user_id, BEN.user_id, FAC.user_id],
        lobby=[CAL.user_id],
        queue=[ANN.user_id, BEN.user_id],
        speaking=None,
        spoken=[],
        timer={
            "deadline": (NOW + dt.timedelta(seconds=120)).isoformat(),
            "seconds": 120,
            "remaining": None,
        },
    )


def run(
    s: dict[str, Any],
    action: str,
    actor: Actor = FAC,
    now: dt.datetime = NOW,
    **payload: Any,
) -> Outcome:
    return transition(s, actor=actor, action=action, payload=payload, now=now)


def refused(s: dict[str, Any], action: str, actor: Actor = FAC, **payload: Any) -> str:
    before = copy.deepcopy(s)
    with pytest.raises(TransitionError) as caught:
        run(s, action, actor, **payload)
    assert s == before, "a refused action must not touch the state"
    assert caught.value.detail
    return caught.value.code
