"""Every rule of the room's state machine, as plain function calls: no
database, no sockets, no clock but the one passed in. The floor (queue,
pass, prompts, timers, pin, leaving) is in test_room_rules_floor.py."""

from __future__ import annotations

import copy

import pytest

from facilitation.room import (
    RULES,
    Actor,
    TransitionError,
    transition,
)
from tests.facilitation.roomkit import (
    ANN,
    BEN,
    CAL,
    FAC,
    FACILITATOR_ONLY,
    FOR_EVERYONE,
    NOW,
    PAYLOADS,
    busy,
    refused,
    run,
    state,
)


def test_the_tests_cover_every_rule() -> None:
    assert set(RULES) == FACILITATOR_ONLY | FOR_EVERYONE


@pytest.mark.parametrize("action", sorted(FACILITATOR_ONLY))
def test_members_get_forbidden_for_facilitator_actions(action: str) -> None:
    s = busy()
    assert refused(s, action, ANN, **PAYLOADS.get(action, {})) == "forbidden"


@pytest.mark.parametrize("action", sorted(FOR_EVERYONE))
def test_member_actions_are_not_forbidden_to_members(action: str) -> None:
    assert RULES[action][1] is False


def test_an_unknown_action_is_refused() -> None:
    assert refused(busy(), "room.explode") == "unknown_action"


@pytest.mark.parametrize("action", sorted(set(RULES) - {"member.leave"}))
def test_nothing_but_leaving_works_after_the_end(action: str) -> None:
    ended = run(busy(), "room.end").state
    actor = FAC if action in FACILITATOR_ONLY else ANN
    assert refused(ended, action, actor, **PAYLOADS.get(action, {})) == "room_closed"


def test_leaving_still_works_after_the_end() -> None:
    ended = run(state(status="open", lobby=[CAL.user_id]), "room.end").state
    outcome = run(ended, "member.leave", CAL)
    assert outcome.state["status"] == "ended"


# --- lifecycle -----------------------------------------------------------


def test_open_then_start_then_pause_resume_end() -> None:
    s = state()
    for action, status in [
        ("room.open", "open"),
        ("room.start", "live"),
        ("room.pause", "paused"),
        ("room.resume", "live"),
        ("room.end", "ended"),
    ]:
        outcome = run(s, action)
        assert outcome.kind == "room.status"
        assert outcome.data["status"] == status
        assert outcome.state["status"] == status
        s = outcome.state


def test_starting_straight_from_scheduled_is_allowed() -> None:
    assert run(state(), "room.start").state["status"] == "live"


@pytest.mark.parametrize("status", ["open", "live", "paused"])
def test_opening_twice_is_bad_state(status: str) -> None:
    assert refused(state(status=status), "room.open") == "bad_state"


@pytest.mark.parametrize("status", ["live", "paused"])
def test_starting_twice_is_bad_state(status: str) -> None:
    assert refused(state(status=status), "room.start") == "bad_state"


@pytest.mark.parametrize("status", ["scheduled", "open", "paused"])
def test_pausing_needs_a_live_session(status: str) -> None:
    assert refused(state(status=status), "room.pause") == "not_live"


@pytest.mark.parametrize("status", ["scheduled", "open", "live"])
def test_resuming_needs_a_paused_session(status: str) -> None:
    assert refused(state(status=status), "room.resume") == "bad_state"


@pytest.mark.parametrize("status", ["scheduled", "open", "live", "paused"])
def test_ending_clears_the_floor_from_any_open_state(status: str) -> None:
    s = busy(status)
    s["speaking"] = CAL.user_id
    outcome = run(s, "room.end")
    assert outcome.state["status"] == "ended"
    assert outcome.state["queue"] == []
    assert outcome.state["speaking"] is None
    assert outcome.state["lobby"] == []
    assert outcome.state["timer"]["deadline"] is None
    assert outcome.data == {"status": "ended"}


def test_ending_twice_is_refused() -> None:
    ended = run(state(status="live"), "room.end").state
    assert refused(ended, "room.end") in ("room_closed", "bad_state")


# --- lobby, admission, lock ---------------------------------------------


def test_admitting_moves_someone_from_the_lobby_into_the_room() -> None:
    outcome = run(state(status="open", lobby=[CAL.user_id]), "lobby.admit", user_id=4)
    assert outcome.state["lobby"] == []
    assert outcome.state["admitted"] == [CAL.user_id]
    assert (outcome.kind, outcome.data) == ("member.admitted", {"user_id": 4})


def test_admitting_someone_not_waiting_is_refused() -> None:
    assert refused(state(status="open"), "lobby.admit", user_id=4) == "not_waiting"


def test_admitting_needs_an_open_room() -> None:
    s = state(lobby=[CAL.user_id])  # scheduled
    assert refused(s, "lobby.admit", user_id=CAL.user_id) == "room_closed"


def test_auto_admit_on_lets_everyone_waiting_in() -> None:
    s = state(status="open", lobby=[3, 4], admitted=[2, 3])
    outcome = run(s, "room.auto_admit", on=True)
    assert outcome.state["auto_admit"] is True
    assert outcome.state["lobby"] == []
    assert sorted(outcome.state["admitted"]) == [2, 3, 4]  # nobody twice
    assert outcome.kind == "room.auto_admit"
    assert outcome.data == {"on": True, "admitted": [3, 4]}


def test_auto_admit_off_leaves_the_lobby_alone() -> None:
    s = state(status="open", lobby=[4], auto_admit=True)
    outcome = run(s, "room.auto_admit", on=False)
    assert outcome.state["auto_admit"] is False
    assert outcome.state["lobby"] == [4]
    assert outcome.data == {"on": False, "admitted": []}


@pytest.mark.parametrize("on", [True, False])
def test_locking_and_unlocking(on: bool) -> None:
    outcome = run(state(status="live", locked=not on), "room.lock", on=on)
    assert outcome.state["locked"] is on
    assert (outcome.kind, outcome.data) == ("room.locked", {"on": on})


def test_a_facilitator_arriving_is_admitted_silently() -> None:
    outcome = run(state(status="open"), "lobby.join", FAC)
    assert outcome.state["admitted"] == [FAC.user_id]
    assert outcome.state["lobby"] == []
    assert outcome.kind == ""


def test_a_member_arriving_waits_in_the_lobby_once() -> None:
    s = run(state(status="open"), "lobby.join", ANN).state
    outcome = run(s, "lobby.join", ANN)
    assert outcome.state["lobby"] == [ANN.user_id]
    assert outcome.state["admitted"] == []
    assert outcome.kind == ""


def test_with_auto_admit_a_member_walks_straight_in() -> None:
    outcome = run(state(status="live", auto_admit=True), "lobby.join", ANN)
    assert outcome.state["admitted"] == [ANN.user_id]
    assert outcome.state["lobby"] == []


def test_a_returning_member_does_not_wait_again() -> None:
    s = state(status="live", admitted=[ANN.user_id])
    outcome = run(s, "lobby.join", ANN)
    assert outcome.state == s
    assert outcome.kind == ""


# --- purity ---------------------------------------------------------------


@pytest.mark.parametrize("action", sorted(RULES))
@pytest.mark.parametrize("status", ["scheduled", "open", "live", "paused", "ended"])
@pytest.mark.parametrize("actor", [FAC, ANN], ids=["facilitator", "member"])
def test_transition_never_changes_its_input(
    action: str, status: str, actor: Actor
) -> None:
    s = busy(status)
    s["speaking"] = BEN.user_id
    s["queue"] = [ANN.user_id]
    s["spoken"] = [CAL.user_id]
    before = copy.deepcopy(s)
    payload = copy.deepcopy(PAYLOADS.get(action, {}))
    if action == "queue.reorder":
        payload["order"] = [ANN.user_id]
    try:
        outcome = transition(s, actor=actor, action=action, payload=payload, now=NOW)
    except TransitionError:
        outcome = None
    assert s == before
    if outcome is not None:
        # The outcome's data is its own: changing it cannot reach the state.
        for value in outcome.data.values():
            if isinstance(value, list | dict):
                assert value is not outcome.state.get("queue")
                assert value is not outcome.state.get("timer")
