"""When a member asks for help themselves: "I'd like support" (after the
gentle check-in) and "I'm not safe right now". Both show the member the
crisis card for their country at once and tell their group's facilitators
privately; neither carries any text. See docs/safety.md, "Asking for help".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from groups.models import Meeting, SupportGroup
from safety.models import AlertTier, SafetyAlert
from safety.models.moderation import Source

from .alerts import alert_facilitators, bump_alert, is_watched
from .care import CrisisCard, country_code, crisis_card

ASKED_SUPPORT = "member.asked_support"
NOT_SAFE = "member.not_safe"
# A session counts as "on now" from this long before its start until this
# long after its end: rooms open early and sessions overrun.
SESSION_SLACK = dt.timedelta(minutes=30)

Target = tuple[SupportGroup, Meeting | None]


@dataclass(frozen=True)
class Answer:
    """What the member sees (`card`, whose notice says who was told) and
    what was recorded: `told` lists the groups whose facilitators now know,
    `alerts` the alerts raised or bumped."""

    card: CrisisCard
    told: list[SupportGroup] = field(default_factory=list)
    alerts: list[SafetyAlert] = field(default_factory=list)
    repeated: bool = False  # over the limit: existing alerts were bumped


def not_safe_limit() -> tuple[int, dt.timedelta]:
    """New urgent alerts one person may raise per group, and the window."""
    limit = int(getattr(settings, "HEARTH_NOT_SAFE_ALERTS", 3))
    minutes = int(getattr(settings, "HEARTH_NOT_SAFE_WINDOW_MINUTES", 10))
    return limit, dt.timedelta(minutes=minutes)


def _place(member: Any, group: SupportGroup | None, country: str | None) -> str | None:
    return (
        country_code(country)
        or country_code(getattr(member, "country", ""))
        or (country_code(group.region) if group is not None else None)
    )


def _card(
    member: Any, tier: str, group: SupportGroup | None, country: str | None, notice: str
) -> CrisisCard:
    card = crisis_card(_place(member, group, country), tier, group=group, held=False)
    # The card's own notice speaks of a held message; here nothing was sent.
    return {**card, "notice": notice}


def _names(groups: Sequence[SupportGroup]) -> str:
    names = [g.name for g in groups]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


@transaction.atomic
def ask_for_support(
    *,
    group: SupportGroup,
    member: Any,
    facilitators_connected: bool | Callable[[], bool],
    meeting: Meeting | None = None,
    country: str | None = None,
    alert: bool = True,
) -> Answer:
    """ "I'd like support": the crisis card, and a private concern-tier alert
    (`member.asked_support`) for the group's facilitators. With
    `alert=False` (the caller's rate limit) only the card; a repeat within
    five minutes bumps the open alert, as any concern alert does."""
    raised: list[SafetyAlert] = []
    if alert:
        connected = is_watched(facilitators_connected)
        raised.append(
            alert_facilitators(
                group=group,
                subject=member,
                tier=AlertTier.CONCERN,
                reasons=[ASKED_SUPPORT],
                facilitators_connected=connected,
                meeting=meeting,
                source=Source.MEMBER,
            )
        )
    notice = (
        "Your group's facilitators have been told, privately, that you'd like "
        "support. Only they can see it."
    )
    if not raised:
        notice = "Your group's facilitators already know that you'd like support."
    card = _card(member, "concern", group, country, notice)
    return Answer(card=card, told=[group], alerts=raised, repeated=not raised)


def groups_to_tell(member: Any, *, now: dt.datetime | None = None) -> list[Target]:
    """Who hears "I'm not safe right now" from outside a room: the groups
    with a session on now (that session), else every group the member
    belongs to (no session). Archived groups are left out."""
    now = now or timezone.now()
    groups = list(
        SupportGroup.objects.filter(
            memberships__user=member, archived_at__isnull=True
        ).order_by("name", "pk")
    )
    if not groups:
        return []
    on_now = (
        Meeting.objects.filter(
            group__in=groups,
            status=Meeting.Status.SCHEDULED,
            starts_at__lte=now + SESSION_SLACK,
            ends_at__gte=now - SESSION_SLACK,
        )
        .select_related("group")
        .order_by("group__name", "group_id", "starts_at")
    )
    live: dict[int, Target] = {}
    for meeting in on_now:
        live.setdefault(meeting.group_id, (meeting.group, meeting))
    if live:
        return list(live.values())
    return [(group, None) for group in groups]


def _recent_not_safe(member: Any, group: SupportGroup, since: dt.datetime) -> Q:
    return Q(
        subject=member,
        group=group,
        tier=AlertTier.IMMINENT,
        source=Source.MEMBER,
        created_at__gte=since,
    )


@transaction.atomic
def say_not_safe(
    *,
    member: Any,
    targets: Sequence[Target],
    facilitators_connected: bool | Callable[[], bool] = False,
    country: str | None = None,
) -> Answer:
    """ "I'm not safe right now": the crisis card at once and, for each
    (group, session) in `targets`, an urgent private alert (imminent tier,
    `member.not_safe`) for that group's facilitators. With no facilitator
    connected they and HEARTH_SAFETY_CONTACTS are emailed at once, as for
    any imminent alert. Past HEARTH_NOT_SAFE_ALERTS (3) new alerts per
    group in HEARTH_NOT_SAFE_WINDOW_MINUTES (10) the card still shows and
    the latest alert is bumped instead. An empty `targets` (a visitor, or
    someone in no group) gives the card alone."""
    limit, window = not_safe_limit()
    now = timezone.now()
    alerts: list[SafetyAlert] = []
    repeated = False
    connected: bool | None = None
    for group, meeting in targets:
        # Not locked: two taps racing may both raise, which errs towards
        # telling someone.
        recent = list(
            SafetyAlert.objects.filter(
                _recent_not_safe(member, group, now - window)
            ).order_by("-created_at", "-pk")[:limit]
        )
        if len(recent) >= limit:
            alerts.append(bump_alert(recent[0], reasons=[NOT_SAFE], now=now))
            repeated = True
            continue
        if connected is None:
            connected = is_watched(facilitators_connected)
        alerts.append(
            alert_facilitators(
                group=group,
                subject=member,
                tier=AlertTier.IMMINENT,
                reasons=[NOT_SAFE],
                facilitators_connected=connected,
                meeting=meeting,
                source=Source.MEMBER,
            )
        )
    told = [group for group, _ in targets]
    first = told[0] if len(told) == 1 else None
    card = _card(member, "imminent", first, country, _told_notice(told, repeated))
    return Answer(card=card, told=told, alerts=alerts, repeated=repeated)


def _told_notice(told: Sequence[SupportGroup], repeated: bool) -> str:
    if not told:
        return (
            "No one has been told: Hearth can only reach the facilitators of a "
            "group you belong to. Please contact one of these services now."
        )
    who = f"The facilitators of {_names(told)}"
    if repeated:
        return f"{who} already know and have been reminded. They will reach out."
    return f"{who} have been told, privately, and will reach out to you."
