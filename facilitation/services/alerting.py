"""Safety alerts that reach a person: which tabs are watching (the hidden-tab
rule) and which alerts a facilitator's socket is owed (docs/safety.md)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from facilitation import ratelimit
from facilitation.models import RoomConnection
from safety.models import SafetyAlert

from .messages import RateLimited
from .rooms import Participant

# A browser reports a change only when its tab is shown or hidden.
VISIBILITY_PER_MINUTE = 30
VISIBILITY_BURST = 10
OPEN_ALERTS_SHOWN = 50


def set_visibility(*, who: Participant, channel_name: str, visible: bool) -> None:
    """Record whether this socket's tab is visible, on its connection row
    (shared by every server process). `visible_at` is when it was last seen
    visible: now, or the moment it was hidden.

    Over the rate limit a "visible" report is refused, but a "hidden" one is
    still recorded: the error falls on the side of emailing an alert."""
    verdict = ratelimit.check(
        f"visibility:{who.user_id}",
        per_minute=VISIBILITY_PER_MINUTE,
        burst=VISIBILITY_BURST,
    )
    if not verdict.allowed and visible:
        raise RateLimited(verdict.retry_after)
    rows = RoomConnection.objects.filter(
        channel_name=channel_name, room__meeting_id=who.meeting_id
    )
    if not visible:
        rows = rows.filter(visible=True)  # hidden twice keeps the first time
    rows.update(visible=visible, visible_at=timezone.now())


def open_safety_alerts(meeting_id: int) -> list[dict[str, Any]]:
    """The session's unacknowledged safety alerts as `safety_alert` frames,
    most urgent first: sent to a facilitator on every join and resume until
    someone acknowledges them."""
    from facilitation.receivers import alert_frame

    return [
        alert_frame(alert)
        for alert in SafetyAlert.objects.filter(
            meeting_id=meeting_id, acknowledged_at__isnull=True
        ).order_by("-severity", "-created_at")[:OPEN_ALERTS_SHOWN]
    ]
