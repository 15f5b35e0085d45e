"""The hidden-tab rule (docs/safety.md): a facilitator watches the room for
alerts only while their room tab is visible or was within the last 60 s.
Visibility is kept on the connection row, never in a process."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine

from facilitation.models import LiveRoom, RoomConnection
from facilitation.services.alerting import VISIBILITY_BURST, set_visibility
from facilitation.services.messages import RateLimited, facilitators_connected
from facilitation.services.rooms import Participant

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 3, 18, 0, tzinfo=dt.UTC)


@pytest.fixture
def room(meeting: Any) -> LiveRoom:
    return LiveRoom.objects.create(meeting=meeting)


def tab(room: LiveRoom, user: Any, role: str, channel: str = "tab-1") -> Participant:
    RoomConnection.objects.create(room=room, user=user, channel_name=channel)
    return Participant(user.pk, room.meeting_id, room.meeting.group_id, "", role)


def test_a_visible_facilitator_tab_counts(room, facilitator) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        tab(room, facilitator, "facilitator")
        assert facilitators_connected(room)


def test_a_hidden_tab_counts_for_sixty_seconds_then_not(room, facilitator) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as clock:
        who = tab(room, facilitator, "facilitator")
        set_visibility(who=who, channel_name="tab-1", visible=False)
        clock.shift(dt.timedelta(seconds=59))
        assert facilitators_connected(room)
        clock.shift(dt.timedelta(seconds=2))
        assert not facilitators_connected(room)
        # Hidden again changes nothing: the minute ran from the first time.
        set_visibility(who=who, channel_name="tab-1", visible=False)
        assert not facilitators_connected(room)
        set_visibility(who=who, channel_name="tab-1", visible=True)
        assert facilitators_connected(room)


def test_one_visible_tab_of_two_is_enough(room, facilitator, cofacilitator) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False) as clock:
        first = tab(room, facilitator, "facilitator", "tab-1")
        tab(room, cofacilitator, "cofacilitator", "tab-2")
        set_visibility(who=first, channel_name="tab-1", visible=False)
        clock.shift(dt.timedelta(minutes=5))
        RoomConnection.objects.update(last_seen=NOW + dt.timedelta(minutes=5))
        assert facilitators_connected(room)


def test_a_members_visible_tab_does_not_count(room, member) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        tab(room, member, "member")
        assert not facilitators_connected(room)


def test_visibility_touches_only_this_sockets_row(room, facilitator, meeting) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        who = tab(room, facilitator, "facilitator", "tab-1")
        tab(room, facilitator, "facilitator", "tab-2")
        set_visibility(who=who, channel_name="tab-1", visible=False)
        assert dict(RoomConnection.objects.values_list("channel_name", "visible")) == {
            "tab-1": False,
            "tab-2": True,
        }


def test_over_the_limit_shown_is_refused_but_hidden_still_recorded(
    room, facilitator, frozen_ratelimit
) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        who = tab(room, facilitator, "facilitator")
        for _ in range(VISIBILITY_BURST):
            set_visibility(who=who, channel_name="tab-1", visible=True)
        with pytest.raises(RateLimited):
            set_visibility(who=who, channel_name="tab-1", visible=True)
        set_visibility(who=who, channel_name="tab-1", visible=False)
        assert RoomConnection.objects.get().visible is False
