"""The state machine's rules for the floor: the speaking queue, pass,
prompts and timers, the pinned note, leaving and removal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from facilitation.room import (
    MAX_PIN_LENGTH,
    MAX_TIMER_SECONDS,
)
from tests.facilitation.roomkit import (
    ANN,
    BEN,
    CAL,
    NOW,
    PLAN_ITEM,
    busy,
    refused,
    run,
    state,
)

# --- the speaking queue -----------------------------------------------------


def test_raising_hands_forms_a_queue_in_order() -> None:
    s = state(status="live")
    s = run(s, "hand.raise", ANN).state
    outcome = run(s, "hand.raise", BEN)
    assert outcome.state["queue"] == [ANN.user_id, BEN.user_id]
    assert outcome.kind == "hand.raised"
    assert outcome.data == {"user_id": BEN.user_id, "queue": [2, 3], "speaking": None}


def test_raising_twice_is_refused() -> None:
    s = run(state(status="live"), "hand.raise", ANN).state
    assert refused(s, "hand.raise", ANN) == "already_queued"


def test_the_speaker_cannot_queue_again_while_speaking() -> None:
    s = state(status="live", speaking=ANN.user_id)
    assert refused(s, "hand.raise", ANN) == "already_queued"


def test_someone_who_has_spoken_may_raise_again() -> None:
    s = state(status="live", spoken=[ANN.user_id])
    assert run(s, "hand.raise", ANN).state["queue"] == [ANN.user_id]


@pytest.mark.parametrize("status", ["scheduled", "open", "paused"])
def test_raising_needs_a_live_session(status: str) -> None:
    assert refused(state(status=status), "hand.raise", ANN) == "not_live"


def test_lowering_leaves_the_queue() -> None:
    s = state(status="live", queue=[2, 3])
    outcome = run(s, "hand.lower", ANN)
    assert outcome.state["queue"] == [3]
    assert outcome.kind == "hand.lowered"
    assert outcome.data == {"user_id": 2, "queue": [3], "speaking": None}


def test_lowering_when_not_queued_is_refused() -> None:
    assert refused(state(status="live", queue=[3]), "hand.lower", ANN) == "not_queued"


def test_calling_next_moves_the_speaker_to_spoken() -> None:
    s = state(status="live", queue=[2, 3], speaking=4, spoken=[])
    outcome = run(s, "queue.next")
    assert outcome.state["speaking"] == 2
    assert outcome.state["queue"] == [3]
    assert outcome.state["spoken"] == [4]
    assert outcome.kind == "speaker.called"
    assert outcome.data == {"user_id": 2, "queue": [3], "speaking": 2}


def test_calling_next_on_an_empty_queue_ends_the_turn() -> None:
    s = state(status="live", queue=[], speaking=2, spoken=[2])
    outcome = run(s, "queue.next")
    assert outcome.state["speaking"] is None
    assert outcome.state["spoken"] == [2]  # never twice
    assert (outcome.kind, outcome.data) == (
        "queue.updated",
        {"queue": [], "speaking": None},
    )


@pytest.mark.parametrize("status", ["open", "paused"])
def test_calling_next_needs_a_live_session(status: str) -> None:
    assert refused(state(status=status, queue=[2]), "queue.next") == "not_live"


def test_skipping_takes_someone_out_of_the_queue() -> None:
    s = state(status="live", queue=[2, 3, 4], speaking=None)
    outcome = run(s, "queue.skip", user_id=3)
    assert outcome.state["queue"] == [2, 4]
    assert outcome.kind == "queue.updated"
    assert outcome.data == {"skipped": 3, "queue": [2, 4], "speaking": None}


def test_skipping_someone_not_queued_is_refused() -> None:
    s = state(status="live", queue=[2], speaking=3)
    assert refused(s, "queue.skip", user_id=3) == "not_queued"


def test_reordering_takes_a_permutation() -> None:
    s = state(status="live", queue=[2, 3, 4])
    outcome = run(s, "queue.reorder", order=[4, 2, 3])
    assert outcome.state["queue"] == [4, 2, 3]
    assert outcome.kind == "queue.updated"
    assert outcome.data == {"queue": [4, 2, 3], "speaking": None}


@pytest.mark.parametrize(
    "order",
    [[2, 3], [2, 3, 4, 5], [2, 3, 3], [2, 2, 3, 4], [], [4, 3, 9]],
    ids=["missing", "extra", "dup-for-missing", "dup-extra", "empty", "stranger"],
)
def test_reordering_with_anything_but_a_permutation_is_refused(order: list) -> None:
    s = state(status="live", queue=[2, 3, 4])
    assert refused(s, "queue.reorder", order=order) == "bad_order"


def test_clearing_empties_the_queue_and_the_floor() -> None:
    s = state(status="live", queue=[2, 3], speaking=4)
    outcome = run(s, "queue.clear")
    assert outcome.state["queue"] == []
    assert outcome.state["speaking"] is None
    assert (outcome.kind, outcome.data) == (
        "queue.updated",
        {"queue": [], "speaking": None},
    )


# --- pass -------------------------------------------------------------------


@pytest.mark.parametrize("status", ["open", "live", "paused"])
def test_pass_is_always_allowed_while_the_room_is_open(status: str) -> None:
    outcome = run(state(status=status), "pass", ANN)
    assert outcome.kind == "member.passed"
    assert outcome.data == {"user_id": 2, "queue": [], "speaking": None}


def test_pass_takes_you_out_of_the_queue() -> None:
    outcome = run(state(status="live", queue=[3, 2, 4]), "pass", ANN)
    assert outcome.state["queue"] == [3, 4]
    assert outcome.data["queue"] == [3, 4]


def test_pass_gives_up_the_floor() -> None:
    outcome = run(state(status="live", speaking=2, queue=[3]), "pass", ANN)
    assert outcome.state["speaking"] is None
    assert outcome.state["queue"] == [3]


def test_pass_by_someone_else_leaves_the_speaker_alone() -> None:
    outcome = run(state(status="live", speaking=3, queue=[2]), "pass", ANN)
    assert outcome.state["speaking"] == 3
    assert outcome.state["queue"] == []


def test_pass_needs_an_open_room() -> None:
    assert refused(state(), "pass", ANN) == "room_closed"


# --- prompts and timers -----------------------------------------------------


def test_showing_a_prompt_sets_the_index_and_the_timer() -> None:
    outcome = run(
        state(status="live"),
        "prompt.show",
        index=1,
        plan_length=3,
        seconds=90,
        item=PLAN_ITEM,
    )
    timer = {
        "deadline": (NOW + dt.timedelta(seconds=90)).isoformat(),
        "seconds": 90,
        "remaining": None,
    }
    assert outcome.state["plan_index"] == 1
    assert outcome.state["timer"] == timer
    assert outcome.kind == "prompt.shown"
    assert outcome.data == {"index": 1, "timer": timer, "item": PLAN_ITEM}


@pytest.mark.parametrize("seconds", [None, 0])
def test_a_prompt_without_seconds_has_no_timer(seconds: int | None) -> None:
    payload: dict[str, Any] = {"index": 0, "plan_length": 1}
    if seconds is not None:
        payload["seconds"] = seconds
    outcome = run(state(status="live"), "prompt.show", **payload)
    assert outcome.state["timer"] == {"deadline": None, "seconds": 0, "remaining": None}


@pytest.mark.parametrize("index", [-1, 3, 99])
def test_a_prompt_index_outside_the_plan_is_refused(index: int) -> None:
    s = state(status="live")
    assert refused(s, "prompt.show", index=index, plan_length=3) == "bad_index"


def test_a_prompt_in_an_empty_plan_is_refused() -> None:
    s = state(status="live")
    assert refused(s, "prompt.show", index=0, plan_length=0) == "bad_index"


def test_a_prompt_shown_while_paused_keeps_its_timer_frozen() -> None:
    outcome = run(
        state(status="paused"), "prompt.show", index=0, plan_length=1, seconds=60
    )
    assert outcome.state["timer"] == {"deadline": None, "seconds": 60, "remaining": 60}


def test_a_prompt_needs_an_open_room() -> None:
    assert refused(state(), "prompt.show", index=0, plan_length=1) == "room_closed"


def test_a_prompt_timer_cannot_run_backwards() -> None:
    s = state(status="live")
    assert refused(s, "prompt.show", index=0, plan_length=1, seconds=-30) == "bad_timer"


def test_a_prompt_timer_longer_than_an_hour_is_refused() -> None:
    s = state(status="live")
    code = refused(s, "prompt.show", index=0, plan_length=1, seconds=10**12)
    assert code == "bad_timer"


def test_setting_a_timer() -> None:
    outcome = run(state(status="live"), "timer.set", seconds=300)
    timer = {
        "deadline": (NOW + dt.timedelta(seconds=300)).isoformat(),
        "seconds": 300,
        "remaining": None,
    }
    assert outcome.state["timer"] == timer
    assert (outcome.kind, outcome.data) == ("timer.set", {"timer": timer})


def test_a_zero_timer_stops_it() -> None:
    outcome = run(busy(), "timer.set", seconds=0)
    assert outcome.state["timer"] == {"deadline": None, "seconds": 0, "remaining": None}


@pytest.mark.parametrize("seconds", [-1, MAX_TIMER_SECONDS + 1, 10**9])
def test_timers_run_for_up_to_an_hour(seconds: int) -> None:
    assert refused(state(status="live"), "timer.set", seconds=seconds) == "bad_timer"


def test_the_longest_timer_is_an_hour() -> None:
    outcome = run(state(status="live"), "timer.set", seconds=MAX_TIMER_SECONDS)
    assert outcome.state["timer"]["seconds"] == 3600


@pytest.mark.parametrize("status", ["open", "paused"])
def test_timers_need_a_live_session(status: str) -> None:
    assert refused(state(status=status), "timer.set", seconds=60) == "not_live"


def test_pausing_freezes_the_timer_and_resuming_thaws_it() -> None:
    s = run(state(status="live"), "timer.set", seconds=60).state
    paused = run(s, "room.pause", now=NOW + dt.timedelta(seconds=10))
    frozen = {"deadline": None, "seconds": 60, "remaining": 50}
    assert paused.state["timer"] == frozen
    assert paused.data == {"status": "paused", "timer": frozen}
    # However long the pause, 50 seconds are left afterwards.
    later = NOW + dt.timedelta(minutes=7)
    resumed = run(paused.state, "room.resume", now=later)
    thawed = {
        "deadline": (later + dt.timedelta(seconds=50)).isoformat(),
        "seconds": 60,
        "remaining": None,
    }
    assert resumed.state["timer"] == thawed
    assert resumed.data == {"status": "live", "timer": thawed}


def test_pausing_after_the_deadline_leaves_nothing_on_the_clock() -> None:
    s = run(state(status="live"), "timer.set", seconds=60).state
    paused = run(s, "room.pause", now=NOW + dt.timedelta(minutes=5))
    assert paused.state["timer"]["remaining"] == 0


def test_pausing_without_a_timer_keeps_it_stopped() -> None:
    paused = run(state(status="live"), "room.pause")
    assert paused.state["timer"] == {"deadline": None, "seconds": 0, "remaining": None}
    resumed = run(paused.state, "room.resume", now=NOW + dt.timedelta(seconds=30))
    assert resumed.state["timer"]["deadline"] is None


# --- pinned note --------------------------------------------------------


def test_pinning_and_unpinning() -> None:
    pinned = run(state(status="live"), "pin.set", text="x" * MAX_PIN_LENGTH)
    assert pinned.state["pinned"] == "x" * 300
    assert (pinned.kind, pinned.data) == ("pin.set", {"text": "x" * 300})
    assert run(pinned.state, "pin.set", text="").state["pinned"] == ""


def test_a_pin_over_300_characters_is_too_long() -> None:
    code = refused(state(status="live"), "pin.set", text="x" * (MAX_PIN_LENGTH + 1))
    assert code == "too_long"


# --- leaving and removal ----------------------------------------------------


def test_leaving_takes_someone_out_of_the_queue() -> None:
    s = state(status="live", queue=[2, 3], admitted=[2, 3])
    outcome = run(s, "member.leave", ANN)
    assert outcome.state["queue"] == [3]
    assert outcome.state["admitted"] == [2, 3]  # they may come back
    assert (outcome.kind, outcome.data) == (
        "queue.updated",
        {"queue": [3], "speaking": None},
    )


def test_leaving_when_in_no_list_changes_nothing() -> None:
    s = state(status="live", admitted=[2])
    outcome = run(s, "member.leave", ANN)
    assert outcome.state == s
    assert outcome.kind == ""


def test_leaving_the_lobby_is_not_announced_to_the_room() -> None:
    s = state(status="open", lobby=[CAL.user_id], queue=[2])
    outcome = run(s, "member.leave", CAL)
    assert outcome.state["lobby"] == []
    assert outcome.kind == ""


def test_removal_takes_someone_out_of_every_list() -> None:
    s = state(status="live", admitted=[2, 3], lobby=[3], queue=[3, 2], speaking=3)
    outcome = run(s, "member.remove", user_id=3)
    assert outcome.state["admitted"] == [2]
    assert outcome.state["lobby"] == []
    assert outcome.state["queue"] == [2]
    assert outcome.state["speaking"] is None
    assert outcome.kind == "member.removed"
    assert outcome.data == {"user_id": 3, "queue": [2], "speaking": None}
