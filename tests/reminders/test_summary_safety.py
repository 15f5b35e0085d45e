"""The facilitators' summary tells the truth: every safety and moderation
event of the session counted by tier and kind, no text, and every
facilitator of the group gets it, present or not (docs/safety.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from facilitation.models import Attendance, LiveRoom, RoomEvent
from reminders.services.sweep import run_sweep
from safety.models import HeldMessage, Mute, Report, SafetyAlert
from safety.services import audit
from tests.factories import MeetingFactory, MembershipFactory

from .conftest import html_of, sent_to, text_of

pytestmark = pytest.mark.django_db
SECRET = "a sentence nobody else should read"


@pytest.fixture
def ended(group: Any, facilitator: Any, member: Any) -> LiveRoom:
    meeting = MeetingFactory(
        group=group, starts_at=timezone.now() - dt.timedelta(hours=3)
    )
    opened = timezone.now() - dt.timedelta(hours=3)
    room = LiveRoom.objects.create(meeting=meeting, opened_at=opened)
    for user in (facilitator, member):
        Attendance.objects.create(room=room, user=user, first_joined_at=opened)
    return room


def _alert(room: LiveRoom, who: Any, tier: str, count: int = 1, **kw: Any) -> None:
    SafetyAlert.objects.create(
        group=room.meeting.group,
        meeting=room.meeting,
        subject=who,
        tier=tier,
        count=count,
        **kw,
    )


def _session_full_of_events(
    room: LiveRoom, group: Any, member: Any, other: Any
) -> None:
    meeting = room.meeting
    _alert(room, member, "imminent")
    _alert(room, member, "concern", count=3)
    _alert(room, other, "concern")
    _alert(room, other, "flag", reasons=["word_rule.4"])
    _alert(room, member, "imminent", source="member", reasons=["member.not_safe"])
    _alert(room, other, "concern", source="member", reasons=["member.asked_support"])
    for tier in ("imminent", "method", "none"):
        HeldMessage.objects.create(
            group=group, meeting=meeting, author=member, tier=tier, text=SECRET
        )
    event = RoomEvent.objects.create(
        room=room, seq=1, kind="chat.message", data={"text": SECRET}, hidden=True
    )
    for reason in ("harassment", "harassment", "risk"):
        Report.objects.create(
            group=group, meeting=meeting, event_id=event.pk, reason=reason, note=SECRET
        )
    RoomEvent.objects.create(room=room, seq=2, kind="member.removed", data={})
    Mute.objects.create(
        group=group, user=other, until=timezone.now() + dt.timedelta(minutes=5)
    )
    for _ in range(2):
        audit(None, "checkin.offered", target=("meeting", meeting.pk), group=group)
    audit(None, "message.block", target=("user", other.pk), group=group)
    # Another session's alert is not this one's.
    _alert(
        LiveRoom.objects.create(meeting=MeetingFactory(group=group)), member, "method"
    )


def test_summary_counts_every_event_by_tier_and_kind_for_every_facilitator(
    ended: LiveRoom,
    group: Any,
    facilitator: Any,
    cofacilitator: Any,
    member: Any,
    settings: Any,
) -> None:
    settings.HEARTH = {**settings.HEARTH, "SUMMARY_DELAY_MINUTES": 0}
    other = MembershipFactory(group=group).user
    _session_full_of_events(ended, group, member, other)
    LiveRoom.objects.filter(pk=ended.pk).update(ended_at=timezone.now())
    run_sweep()
    run_sweep()
    # The co-facilitator was not in the room and still gets it.
    assert not Attendance.objects.filter(user=cofacilitator).exists()
    for lead in (facilitator, cofacilitator):
        (summary,) = sent_to(lead.email, "summary")
        text = text_of(summary)
        for line in (
            "- Safety alerts, Imminent risk: 1",
            "- Safety alerts, Concern: 4",
            "- Safety alerts, Word filter flag: 1",
            "- Said “I'm not safe right now”: 1",
            "- Asked for support: 1",
            "- Gentle check-ins offered: 2",
            "- Messages held for review (Imminent risk): 1",
            "- Messages held for review (Method detail): 1",
            "- Messages held for review (a word filter): 1",
            "- Reports (Harassment or a personal attack): 2",
            "- Reports (Someone may be at risk): 1",
            "- Messages blocked by a word filter: 1",
            "- Members muted: 1",
            "- Members removed from the session: 1",
            "- Messages hidden: 1",
        ):
            assert line in text, (line, text)
        assert "Safety alerts, Method detail" not in text  # another session's
        html = html_of(summary)
        assert "<li>Safety alerts, Imminent risk: 1</li>" in html
        # No text, and no names next to the counts.
        for body, heading in ((text, "ALERTS AND MODERATION"), (html, "Alerts and")):
            assert SECRET not in body
            counts = body.split(heading)[1].split("SHARED REFLECTIONS")[0]
            assert member.display_name not in counts
            assert other.display_name not in counts
    assert sent_to(member.email, "summary") == []


def test_a_quiet_session_says_none(
    ended: LiveRoom, facilitator: Any, settings: Any
) -> None:
    settings.HEARTH = {**settings.HEARTH, "SUMMARY_DELAY_MINUTES": 0}
    LiveRoom.objects.filter(pk=ended.pk).update(ended_at=timezone.now())
    run_sweep()
    (summary,) = sent_to(facilitator.email, "summary")
    assert "ALERTS AND MODERATION\nNone." in text_of(summary)
