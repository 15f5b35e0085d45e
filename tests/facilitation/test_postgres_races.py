"""Room races that only a database with real row locks and concurrent
transactions can show (PostgreSQL; SQLite's IMMEDIATE mode serialises)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from facilitation import events
from facilitation.models import RoomConnection, RoomEvent
from facilitation.services import presence
from facilitation.services.rooms import participant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once, each in its own thread and connection."""
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            results[index] = call()
        except Exception as error:  # collected for the assertions
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_the_connection_cap_holds_when_sockets_arrive_together(
    meeting: Any, member: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "_send", lambda *a, **k: None)
    who = participant(meeting_id=meeting.pk, user=member)
    cap = settings.HEARTH["MAX_ROOM_CONNECTIONS"]
    for n in range(cap - 1):
        presence.connect(who=who, channel_name=f"tab-{n}")
    # Both arrivals count first, then both go for the room: the window a
    # second server opens in production, made certain here. (Once counting
    # happens under a lock, the second arrival cannot reach the barrier; the
    # first then goes on alone after the timeout.)
    barrier = threading.Barrier(2, timeout=3)
    locked_room = presence.locked_room

    def meet_then_lock(meeting_id: int) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return locked_room(meeting_id)

    monkeypatch.setattr(presence, "locked_room", meet_then_lock)
    results = race(
        [
            lambda: presence.connect(who=who, channel_name="late-1"),
            lambda: presence.connect(who=who, channel_name="late-2"),
        ]
    )
    assert RoomConnection.objects.filter(user=member).count() == cap
    assert sum(isinstance(r, presence.TooManyConnections) for r in results) == 1


def test_a_resend_racing_on_two_sockets_is_stored_once(
    meeting: Any, facilitator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from facilitation.services import control, messages

    monkeypatch.setattr(events, "_send", lambda *a, **k: None)
    who = participant(meeting_id=meeting.pk, user=facilitator)
    presence.connect(who=who, channel_name="tab-1")
    control.act(who=who, action="room.start", payload={})
    barrier = threading.Barrier(2, timeout=3)
    locked_room = messages.locked_room

    def meet_then_lock(meeting_id: int) -> Any:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return locked_room(meeting_id)

    monkeypatch.setattr(messages, "locked_room", meet_then_lock)
    results = race(
        [
            lambda: messages.send_chat(who=who, text="once", client_msg_id="same"),
            lambda: messages.send_chat(who=who, text="once", client_msg_id="same"),
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0].seq == results[1].seq
    assert sorted(r.duplicate for r in results) == [False, True]
    rows = RoomEvent.objects.filter(kind="chat.message", client_msg_id="same")
    assert rows.count() == 1
    seqs = list(RoomEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
