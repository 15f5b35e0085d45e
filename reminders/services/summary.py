"""The facilitators' picture of a session that ended: who came, how people
arrived and left (only from enough answers to stay anonymous), which
prompts were used, every alert and moderation event counted by tier and
kind. Never a word of chat, never who."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings

from facilitation.models import (
    Attendance,
    CheckIn,
    FacilitatorAlert,
    LiveRoom,
    PrivateThread,
    RoomEvent,
)
from groups.models import RSVP, Meeting, Membership

from .summary_safety import safety_lines


@dataclass
class Distribution:
    label: str
    answers: int
    counts: list[tuple[int, int]]  # (score 1..5, how many)
    shown: bool


@dataclass
class Summary:
    attended: list[str] = field(default_factory=list)
    going: int = 0
    distributions: list[Distribution] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    alerts: list[tuple[str, int]] = field(default_factory=list)
    hidden_messages: int = 0
    # Safety and moderation events by tier and kind (summary_safety.py).
    safety: list[tuple[str, int]] = field(default_factory=list)
    # Only how many: never who or what (docs/safety.md, "Private threads").
    private_threads: int = 0
    shared_reflections: int = 0
    minimum: int = 3


def distribution(room: LiveRoom, phase: str, label: str, minimum: int) -> Distribution:
    scores = list(
        CheckIn.objects.filter(room=room, phase=phase).values_list("score", flat=True)
    )
    counted = Counter(scores)
    return Distribution(
        label=label,
        answers=len(scores),
        counts=[(score, counted.get(score, 0)) for score in range(1, 6)],
        shown=len(scores) >= minimum,
    )


def prompts_used(room: LiveRoom) -> list[str]:
    """Titles of the plan items shown, in the order first shown."""
    shown: list[str] = []
    for data in RoomEvent.objects.filter(room=room, kind="prompt.shown").values_list(
        "data", flat=True
    ):
        index = data.get("index") if isinstance(data, dict) else None
        item = data.get("item") if isinstance(data, dict) else None
        title = ""
        if isinstance(item, dict):
            title = str(item.get("title", ""))
        elif isinstance(index, int) and 0 <= index < len(room.plan):
            title = str(room.plan[index].get("title", ""))
        if title and title not in shown:
            shown.append(title)
    return shown


def summarise(meeting: Meeting) -> Summary:
    from journal.models import Reflection

    minimum = int(settings.HEARTH.get("CHECKIN_MIN_ANSWERS", 3))
    summary = Summary(minimum=minimum)
    summary.going = RSVP.objects.filter(
        meeting=meeting, status=RSVP.Status.GOING
    ).count()
    summary.shared_reflections = (
        Reflection.objects.shared().filter(meeting=meeting).count()
    )
    room = LiveRoom.objects.filter(meeting=meeting).first()
    if room is None:
        return summary
    attendees = set(
        Attendance.objects.filter(room=room).values_list("user_id", flat=True)
    )
    names = {
        m.user_id: m.shown_name
        for m in Membership.objects.filter(
            group_id=meeting.group_id, user_id__in=attendees
        ).select_related("user")
    }
    summary.attended = sorted(names.get(u, "A former member") for u in attendees)
    summary.distributions = [
        distribution(room, CheckIn.Phase.IN, "Check-in", minimum),
        distribution(room, CheckIn.Phase.OUT, "Check-out", minimum),
    ]
    summary.prompts = prompts_used(room)
    kinds = dict(FacilitatorAlert.Kind.choices)
    counted = Counter(
        FacilitatorAlert.objects.filter(room=room).values_list("kind", flat=True)
    )
    summary.alerts = [(kinds.get(k, k), n) for k, n in sorted(counted.items())]
    summary.hidden_messages = RoomEvent.objects.filter(
        room=room, kind="chat.message", hidden=True
    ).count()
    summary.safety = safety_lines(room, meeting)
    summary.private_threads = PrivateThread.objects.filter(room=room).count()
    return summary
