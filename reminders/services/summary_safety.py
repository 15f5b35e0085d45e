"""The safety and moderation lines of a session's summary: every event by
tier and kind, as counts only. Never text, never who (docs/safety.md,
"The facilitators' summary")."""

from __future__ import annotations

from django.db.models import Count, Sum

from facilitation.models import LiveRoom, RoomEvent
from groups.models import Meeting
from safety.models import AlertTier, AuditLog, HeldMessage, Mute, Report, SafetyAlert
from safety.models.moderation import SEVERITY, Source

Line = tuple[str, int]
_TIER_ORDER = sorted(AlertTier.values, key=lambda t: -SEVERITY[AlertTier(t)])
_HELD_WHY = {"none": "a word filter", **dict(AlertTier.choices)}


def _alert_lines(meeting: Meeting) -> list[Line]:
    """Alerts by tier, counting repeats (`count`): each is one message or
    tap. What members asked for themselves is listed on its own."""
    rows = (
        SafetyAlert.objects.filter(meeting=meeting)
        .order_by()
        .values_list("source", "tier")
        .annotate(events=Sum("count"))
    )
    asked: dict[str, int] = {}
    by_tier: dict[str, int] = {}
    for source, tier, events in rows:
        into = asked if source == Source.MEMBER else by_tier
        into[tier] = into.get(tier, 0) + int(events or 0)
    labels = dict(AlertTier.choices)
    lines = [
        (f"Safety alerts, {labels[t]}", by_tier[t]) for t in _TIER_ORDER if t in by_tier
    ]
    if asked.get(AlertTier.IMMINENT):
        lines.append(("Said “I'm not safe right now”", asked[AlertTier.IMMINENT]))
    if asked.get(AlertTier.CONCERN):
        lines.append(("Asked for support", asked[AlertTier.CONCERN]))
    return lines


def _counted(
    pairs: list[tuple[str, int]], label: str, names: dict[str, str]
) -> list[Line]:
    return [(label.format(names.get(key, key)), n) for key, n in sorted(pairs) if n]


def safety_lines(room: LiveRoom, meeting: Meeting) -> list[Line]:
    """Every safety and moderation event of the session, as counts."""
    lines = _alert_lines(meeting)
    offered = AuditLog.objects.filter(
        action="checkin.offered", target_type="meeting", target_id=str(meeting.pk)
    ).count()
    if offered:
        lines.append(("Gentle check-ins offered", offered))
    held = HeldMessage.objects.filter(meeting=meeting).order_by().values_list("tier")
    lines += _counted(
        list(held.annotate(n=Count("pk"))), "Messages held for review ({})", _HELD_WHY
    )
    reports = Report.objects.filter(meeting=meeting).order_by().values_list("reason")
    lines += _counted(
        list(reports.annotate(n=Count("pk"))),
        "Reports ({})",
        dict(Report.Reason.choices),
    )
    removed = RoomEvent.objects.filter(room=room, kind="member.removed").count()
    if room.opened_at is not None:
        # Mutes and word-filter blocks belong to the group; count those
        # made while the room was open.
        window = (room.opened_at, room.ended_at or room.opened_at)
        blocked = AuditLog.objects.filter(
            action="message.block",
            group_id=meeting.group_id,
            created_at__range=window,
        ).count()
        if blocked:
            lines.append(("Messages blocked by a word filter", blocked))
        mutes = Mute.objects.filter(
            group_id=meeting.group_id, created_at__range=window
        ).count()
        if mutes:
            lines.append(("Members muted", mutes))
    if removed:
        lines.append(("Members removed from the session", removed))
    return lines
