"""In the room, over the socket: the speaking queue, prompts and timers,
the pinned note, the lock, reactions, check-ins and "I need a moment"."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from facilitation.models import FacilitatorAlert, LiveRoom, RoomEvent
from prompts.models import PlanAssignment
from tests.facilitation.conftest import events_of, room_state, seat, stored_events
from tests.prompts.factories import PlanItemFactory, SessionPlanFactory, published

pytestmark = pytest.mark.django_db(transaction=True)


async def event_for(tab: Any, ack: dict[str, Any]) -> dict[str, Any]:
    """The broadcast event an ack refers to, as another tab receives it."""
    event, _ = await tab.expect(lambda f: f.get("seq") == ack["seq"])
    assert event["type"] == "event"
    return event


async def test_the_speaking_queue(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    member2: Any,
    member3: Any,
) -> None:
    fac, [ann, ben, cal] = await seat(
        sockets, meeting, facilitator, member, member2, member3
    )
    for tab, person in [(ann, member), (ben, member2), (cal, member3)]:
        ack = await tab.ok({"type": "hand.raise"})
        raised = await event_for(fac, ack)
        assert raised["kind"] == "hand.raised"
        assert raised["data"]["user_id"] == person.pk
    assert raised["data"]["queue"] == [member.pk, member2.pk, member3.pk]
    assert (await ann.error({"type": "hand.raise"}))["code"] == "already_queued"

    ack = await fac.ok({"type": "queue.next"})
    called = await event_for(ben, ack)
    assert (called["kind"], called["data"]) == (
        "speaker.called",
        {
            "user_id": member.pk,
            "queue": [member2.pk, member3.pk],
            "speaking": member.pk,
        },
    )
    assert (await ann.error({"type": "hand.lower"}))["code"] == "not_queued"

    ack = await fac.ok({"type": "queue.reorder", "order": [member3.pk, member2.pk]})
    assert (await event_for(ann, ack))["data"]["queue"] == [member3.pk, member2.pk]
    bad = await fac.error({"type": "queue.reorder", "order": [member2.pk]})
    assert bad["code"] == "bad_order"

    ack = await fac.ok({"type": "queue.skip", "user_id": member3.pk})
    skipped = await event_for(ann, ack)
    assert (skipped["kind"], skipped["data"]["skipped"]) == (
        "queue.updated",
        member3.pk,
    )
    bad = await fac.error({"type": "queue.skip", "user_id": member3.pk})
    assert bad["code"] == "not_queued"

    ack = await ben.ok({"type": "hand.lower"})
    lowered = await event_for(fac, ack)
    assert (lowered["kind"], lowered["data"]["queue"]) == ("hand.lowered", [])

    # The speaker passes: off the floor, and the next call finds nobody.
    ack = await ann.ok({"type": "pass"})
    passed = await event_for(fac, ack)
    assert (passed["kind"], passed["data"]) == (
        "member.passed",
        {"user_id": member.pk, "queue": [], "speaking": None},
    )
    await cal.ok({"type": "hand.raise"})
    ack = await fac.ok({"type": "queue.clear"})
    cleared = await event_for(ann, ack)
    assert cleared["data"] == {"queue": [], "speaking": None}
    state = await room_state(meeting)
    assert (state["queue"], state["speaking"]) == ([], None)


async def test_passing_while_queued_leaves_the_queue(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    await ann.ok({"type": "hand.raise"})
    ack = await ann.ok({"type": "pass"})
    assert (await event_for(fac, ack))["data"]["queue"] == []


async def test_the_queue_needs_a_live_session(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    await fac.ok({"type": "room.pause"})
    assert (await ann.error({"type": "hand.raise"}))["code"] == "not_live"
    assert (await fac.error({"type": "queue.next"}))["code"] == "not_live"
    assert (await fac.error({"type": "timer.set", "seconds": 5}))["code"] == "not_live"
    await ann.ok({"type": "pass"})  # pass works whatever the state


@database_sync_to_async
def give_plan(meeting: Any, titles: list[str]) -> list[Any]:
    plan = SessionPlanFactory()
    items = [
        PlanItemFactory(plan=plan, position=i, version=published(title=t))
        for i, t in enumerate(titles)
    ]
    PlanAssignment.objects.create(plan=plan, meeting=meeting)
    return items


async def test_prompts_come_from_the_plan_frozen_at_opening(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    items = await give_plan(meeting, ["Arriving", "Asking for help"])
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    snapshot = await ann.join()
    assert [i["title"] for i in snapshot["plan"]] == ["Arriving", "Asking for help"]
    assert set(snapshot["plan"][0]) >= {
        "index",
        "title",
        "kind",
        "minutes",
        "html",
        "content_note",
        "follow_up",
        "version_id",
    }
    # Editing the plan afterwards does not change the running room.
    await database_sync_to_async(items[1].delete)()

    started = timezone.now()
    ack = await fac.ok({"type": "prompt.show", "index": 1, "seconds": 120})
    shown = await event_for(ann, ack)
    assert shown["kind"] == "prompt.shown"
    assert shown["data"]["index"] == 1
    assert shown["data"]["item"]["title"] == "Asking for help"
    assert "<em>a little</em>" in shown["data"]["item"]["html"]
    timer = shown["data"]["timer"]
    deadline = dt.datetime.fromisoformat(timer["deadline"])
    assert started + dt.timedelta(seconds=119) <= deadline
    assert deadline <= timezone.now() + dt.timedelta(seconds=120)
    assert (timer["seconds"], timer["remaining"]) == (120, None)
    assert (await room_state(meeting))["plan_index"] == 1

    for index in (2, -1):
        reply = await fac.error({"type": "prompt.show", "index": index})
        assert reply["code"] == "bad_index"


async def test_a_session_without_a_plan_has_no_prompts(
    sockets: Any, meeting: Any, facilitator: Any
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    assert (await fac.error({"type": "prompt.show", "index": 0}))["code"] == "bad_index"


async def test_timers_and_pause(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    ack = await fac.ok({"type": "timer.set", "seconds": 90})
    timer = (await event_for(ann, ack))["data"]["timer"]
    assert timer["seconds"] == 90 and timer["deadline"]
    for seconds in (3601, -1):
        reply = await fac.error({"type": "timer.set", "seconds": seconds})
        assert reply["code"] == "bad_timer"

    ack = await fac.ok({"type": "room.pause"})
    paused = (await event_for(ann, ack))["data"]
    assert paused["status"] == "paused"
    assert paused["timer"]["deadline"] is None
    assert 85 <= paused["timer"]["remaining"] <= 90
    ack = await fac.ok({"type": "room.resume"})
    resumed = (await event_for(ann, ack))["data"]["timer"]
    assert resumed["remaining"] is None and resumed["deadline"]

    ack = await fac.ok({"type": "timer.set", "seconds": 0})
    assert (await event_for(ann, ack))["data"]["timer"]["deadline"] is None


async def test_pinning_a_note(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    ack = await fac.ok({"type": "pin.set", "text": "p" * 300})
    assert (await event_for(ann, ack))["data"] == {"text": "p" * 300}
    assert (await fac.error({"type": "pin.set", "text": "p" * 301}))["code"] == (
        "too_long"
    )
    ack = await fac.ok({"type": "pin.set", "text": ""})
    assert (await event_for(ann, ack))["data"] == {"text": ""}
    assert (await ann.join())["state"]["pinned"] == ""


@pytest.mark.parametrize("text", ["a\x00b", "a\ud800b"], ids=["nul", "surrogate"])
async def test_a_pin_with_invalid_characters_is_refused(
    sockets: Any, meeting: Any, facilitator: Any, text: str
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    reply, _ = await fac.request({"type": "pin.set", "text": text})
    assert reply["type"] == "error"
    assert reply["code"] == "bad_text"


async def test_a_locked_room_lets_only_facilitators_chat(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    ack = await fac.ok({"type": "room.lock", "on": True})
    assert (await event_for(ann, ack))["data"] == {"on": True}
    assert (await ann.error({"type": "chat.send", "text": "hello?"}))[
        "code"
    ] == "locked"
    await fac.ok({"type": "chat.send", "text": "One moment, everyone."})
    await fac.ok({"type": "room.lock", "on": False})
    await ann.ok({"type": "chat.send", "text": "hello!"})
    texts = [
        d.get("text") for _, k, d in await stored_events(meeting) if k == "chat.message"
    ]
    assert texts == ["One moment, everyone.", "hello!"]


async def test_reactions_come_from_a_small_supportive_set(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    for emoji in ("heart", "thanks", "hug", "clap", "strength", "sparkle"):
        ack = await ann.ok({"type": "reaction", "emoji": emoji})
        assert (await event_for(fac, ack))["data"] == {
            "user_id": member.pk,
            "emoji": emoji,
        }
    for emoji in ("thumbsdown", "<script>", "HEART"):
        reply = await ann.error({"type": "reaction", "emoji": emoji})
        assert reply["code"] == "bad_reaction"


async def test_check_in_shows_a_distribution_only_from_three_answers(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    member2: Any,
    member3: Any,
) -> None:
    fac, tabs = await seat(sockets, meeting, facilitator, member, member2, member3)
    ann, ben, cal = tabs
    ack = await ann.ok({"type": "checkin", "phase": "in", "score": 2, "word": "tired"})
    first = await event_for(ben, ack)
    assert first["kind"] == "checkin.summary"
    assert first["data"] == {"phase": "in", "count": 1, "distribution": None}
    # Answering again replaces the answer: still one.
    ack = await ann.ok({"type": "checkin", "phase": "in", "score": 3})
    assert (await event_for(ben, ack))["data"]["count"] == 1
    ack = await ben.ok({"type": "checkin", "phase": "in", "score": 3})
    assert (await event_for(cal, ack))["data"]["distribution"] is None
    ack = await cal.ok({"type": "checkin", "phase": "in", "score": 5, "word": "ok"})
    third = await event_for(fac, ack)
    assert third["data"] == {
        "phase": "in",
        "count": 3,
        "distribution": {"1": 0, "2": 0, "3": 2, "4": 0, "5": 1},
    }
    # Anonymous: no user id and no words anywhere in the public log.
    for _, kind, data in await stored_events(meeting):
        if kind == "checkin.summary":
            assert "tired" not in str(data) and "user_id" not in data
    snapshot = await ann.join()
    assert snapshot["checkins"]["in"]["count"] == 3
    assert snapshot["checkins"]["out"] == {
        "phase": "out",
        "count": 0,
        "distribution": None,
    }


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"phase": "in", "score": 0}, "bad_field"),
        ({"phase": "in", "score": 6}, "bad_field"),
        ({"phase": "during", "score": 3}, "bad_field"),
        ({"phase": "out", "score": 3, "word": "w" * 31}, "too_long"),
    ],
)
async def test_check_in_answers_are_checked(
    sockets: Any, meeting: Any, facilitator: Any, frame: dict, code: str
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    reply = await fac.error({"type": "checkin", **frame})
    assert reply["code"] == code


async def test_i_need_a_moment_reaches_only_facilitators(
    sockets: Any, meeting: Any, facilitator: Any, member: Any, member2: Any
) -> None:
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    before = await stored_events(meeting)
    ack = await ann.ok({"type": "moment"})
    assert ack["seq"] is None
    alert, _ = await fac.expect("alert")
    assert alert["kind"] == "moment"
    assert (alert["user_id"], alert["name"]) == (member.pk, member.display_name)
    assert alert["id"] and alert["at"]
    assert await ben.nothing()
    assert await stored_events(meeting) == before  # not in the public log
    assert (await ben.join()).get("alerts") is None

    listed = (await fac.join())["alerts"]
    assert [(a["id"], a["kind"], a["user_id"]) for a in listed] == [
        (alert["id"], "moment", member.pk)
    ]
    forbidden = await ann.error({"type": "alert.ack", "alert_id": alert["id"]})
    assert forbidden["code"] == "forbidden"
    assert (await fac.ok({"type": "alert.ack", "alert_id": alert["id"]}))["seq"] is None
    again = await fac.error({"type": "alert.ack", "alert_id": alert["id"]})
    assert again["code"] == "not_found"
    assert (await fac.join())["alerts"] == []
    seen = database_sync_to_async(
        FacilitatorAlert.objects.filter(acknowledged_at__isnull=False).count
    )
    assert await seen() == 1


async def test_an_alert_of_another_room_cannot_be_acknowledged(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)

    @database_sync_to_async
    def foreign_alert() -> int:
        from tests.factories import MeetingFactory

        other = LiveRoom.objects.create(meeting=MeetingFactory())
        return FacilitatorAlert.objects.create(
            room=other, user=member, kind="moment"
        ).pk

    alert_id = await foreign_alert()
    reply = await fac.error({"type": "alert.ack", "alert_id": alert_id})
    assert reply["code"] == "not_found"
    for huge in (2**63, 10**30):
        reply, _ = await fac.request({"type": "alert.ack", "alert_id": huge})
        assert reply["code"] == "not_found"


async def test_event_frames_carry_seq_kind_time_and_data(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    ack = await ann.ok({"type": "reaction", "emoji": "hug"})
    event = await event_for(fac, ack)
    assert set(event) == {"type", "seq", "kind", "at", "data"}
    at = dt.datetime.fromisoformat(event["at"])
    assert abs((timezone.now() - at).total_seconds()) < 5
    row = await database_sync_to_async(RoomEvent.objects.get)(
        room__meeting=meeting, seq=ack["seq"]
    )
    assert (row.kind, row.actor_id) == ("reaction", member.pk)
    assert events_of([event]) == [event]
