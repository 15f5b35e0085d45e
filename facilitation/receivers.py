"""The room listens to the safety app (which never imports the room):
alerts reach facilitators' sockets, approved held messages are published,
and reports resolved as "hidden" hide the message for everyone."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from safety import hooks

from . import events
from .models import LiveRoom, RoomEvent


def _room(meeting_id: int | None) -> LiveRoom | None:
    if meeting_id is None:
        return None
    return LiveRoom.objects.filter(meeting_id=meeting_id).first()


def alert_frame(alert: Any) -> dict[str, Any]:
    return {
        "type": "safety_alert",
        "id": alert.pk,
        "tier": alert.tier,
        "reasons": list(alert.reasons),
        "user_id": alert.subject_id,
        "count": alert.count,
        "held_id": alert.held_id,
        "at": alert.created_at.isoformat(),
    }


@receiver(hooks.alert_raised)
def push_alert(sender: Any, alert: Any, created: bool, **kwargs: Any) -> None:
    room = _room(alert.meeting_id)
    if room is not None:
        events.notify_facilitators(room, alert_frame(alert))


@receiver(hooks.alert_acknowledged)
def clear_alert(sender: Any, alert: Any, by: Any, **kwargs: Any) -> None:
    """One facilitator's acknowledgement clears the alert for all of them."""
    room = _room(alert.meeting_id)
    if room is not None:
        events.notify_facilitators(
            room,
            {"type": "safety_alert_cleared", "id": alert.pk, "by": by.pk},
        )


@receiver(hooks.held_message_decided)
def publish_held(
    sender: Any, held: Any, approved: bool, text: str | None, **kwargs: Any
) -> None:
    room = _room(held.meeting_id)
    if room is None:
        return
    if approved and text and held.source == "chat":
        from .services.moderation import publish_approved

        publish_approved(held, text)
    events.notify_facilitators(
        room, {"type": "held_decided", "id": held.pk, "approved": approved}
    )


@receiver(hooks.report_resolved)
def hide_reported(sender: Any, reports: Any, outcome: str, **kwargs: Any) -> None:
    if outcome != "hidden":
        return
    from .services.moderation import set_hidden
    from .services.rooms import locked_room

    for report in reports:
        event = (
            RoomEvent.objects.filter(pk=report.event_id).select_related("room").first()
        )
        if event is not None:
            set_hidden(locked_room(event.room.meeting_id), event, hidden=True)


def reported_text(report: Any) -> str | None:
    """Facilitators reviewing a report see the message (unless hidden by
    retention); safety itself never stores it."""
    event = RoomEvent.objects.filter(pk=report.event_id).first()
    if event is None:
        return None
    text = event.data.get("text")
    return str(text) if text else None


hooks.set_report_text_loader(reported_text)
