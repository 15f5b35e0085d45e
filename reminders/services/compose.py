"""What each kind of delivery says. Rendered at send time, in the
recipient's current time zone: a member who moves zone gets the new local
time in every email still to come."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from accounts.emails import absolute, one_line
from groups.models import Meeting, Membership
from reminders import ics, unsubscribe
from reminders.models import Delivery, Family, Kind


@dataclass
class Email:
    subject: str
    template: str
    context: dict[str, Any]
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def utc_offset(at: dt.datetime) -> str:
    raw = at.strftime("%z") or "+0000"
    sign, hours, mins = raw[0], raw[1:3], raw[3:5]
    return f"UTC{sign}{hours}:{mins}"


def local_when(at: dt.datetime, zone: ZoneInfo) -> str:
    """ "Tuesday 3 March 2026, 13:00 (America/New_York, UTC-05:00)"."""
    local = at.astimezone(zone)
    return (
        f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} "
        f"({zone.key}, {utc_offset(local)})"
    )


def short_when(at: dt.datetime, zone: ZoneInfo) -> str:
    local = at.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"


def _plan_title(meeting: Meeting) -> str:
    from prompts.services.plans import plan_for_meeting

    plan = plan_for_meeting(meeting=meeting)
    return plan.title if plan else ""


def _name_in_group(meeting: Meeting, user_id: int, fallback: str) -> str:
    chosen = (
        Membership.objects.filter(group_id=meeting.group_id, user_id=user_id)
        .values_list("display_name", flat=True)
        .first()
    )
    return chosen or fallback


def _next_meeting(meeting: Meeting) -> Meeting | None:
    return (
        Meeting.objects.upcoming()
        .filter(group_id=meeting.group_id)
        .exclude(pk=meeting.pk)
        .first()
    )


class Composer:
    """Writes a batch's emails. What is the same for everyone invited to a
    session (links, its plan, the next session, the summary, the calendar
    event but for its attendee line) is looked up or built once per
    session; names, times and unsubscribe links are each recipient's."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self._per_meeting: dict[tuple[int, str], Any] = {}
        self._support_url = absolute(reverse("safety:support"))
        self._preferences_url = absolute(reverse("reminders:preferences"))

    def _once(self, meeting: Meeting, key: str, make: Callable[[], Any]) -> Any:
        slot = (meeting.pk, key)
        if slot not in self._per_meeting:
            self._per_meeting[slot] = make()
        return self._per_meeting[slot]

    def _links(self, meeting: Meeting) -> dict[str, str]:
        return self._once(
            meeting,
            "links",
            lambda: {
                "meeting_url": absolute(meeting.get_absolute_url()),
                "join_url": absolute(reverse("facilitation:room", args=[meeting.pk])),
            },
        )

    def _invite(
        self, meeting: Meeting, user: Any, method: str
    ) -> tuple[str, bytes, str]:
        shared = self._once(
            meeting,
            f"ics:{method}",
            lambda: ics.event_for_all(meeting, method=method, stamp=self.now),
        )
        content = ics.with_attendee(shared, email=user.email, name=user.display_name)
        return ics.as_attachment(content, method=method)

    def email(self, delivery: Delivery, *, recipient_name: str) -> Email:
        meeting, user = delivery.meeting, delivery.user
        group = meeting.group
        zone = user.zone
        family = delivery.family
        stop_url = unsubscribe.unsubscribe_url(
            user_id=user.pk, family=family, group_id=group.pk
        )
        context: dict[str, Any] = {
            "recipient_name": recipient_name or user.display_name,
            "group": group,
            "meeting": meeting,
            "when": local_when(meeting.starts_at, zone),
            "note": meeting.description,
            **self._links(meeting),
            "support_url": self._support_url,
            "unsubscribe_url": stop_url,
            "preferences_url": self._preferences_url,
            "family_label": Family(family).label.lower(),
        }
        email = Email(
            subject="",
            template=f"reminders/email/{delivery.kind}",
            context=context,
            headers=unsubscribe.headers(stop_url),
        )
        title = one_line(meeting.title, 80)
        when = short_when(meeting.starts_at, zone)
        kind = delivery.kind
        if kind in (Kind.CANCELLATION, Kind.MISSED):
            upcoming = self._once(meeting, "next", lambda: _next_meeting(meeting))
            context["next_meeting"] = upcoming
            context["next_when"] = (
                local_when(upcoming.starts_at, zone) if upcoming else ""
            )
        if kind == Kind.REMINDER:
            context["plan_title"] = self._once(
                meeting, "plan", lambda: _plan_title(meeting)
            )
            context["soon"] = delivery.offset_minutes <= 120
            email.subject = f"Coming up: {title}, {when}"
            email.attachments.append(self._invite(meeting, user, ics.REQUEST))
        elif kind == Kind.UPDATE:
            context["plan_title"] = self._once(
                meeting, "plan", lambda: _plan_title(meeting)
            )
            email.subject = f"Updated: {title}, now {when}"
            email.attachments.append(self._invite(meeting, user, ics.REQUEST))
        elif kind == Kind.CANCELLATION:
            email.subject = f"Cancelled: {title}, {when}"
            email.attachments.append(self._invite(meeting, user, ics.CANCEL))
        elif kind == Kind.REFLECTION:
            from journal.services import reflection_prompts

            context["prompts"] = self._once(
                meeting, "prompts", lambda: reflection_prompts(meeting)
            )
            context["reflect_url"] = absolute(
                reverse("journal:reflect", args=[meeting.pk])
            )
            email.subject = f"A quiet moment to reflect on {title}"
        elif kind == Kind.MISSED:
            upcoming = context["next_meeting"]
            context["next_url"] = (
                absolute(upcoming.get_absolute_url()) if upcoming else ""
            )
            email.subject = f"Thinking of you after {title}"
        elif kind == Kind.SUMMARY:
            from .summary import summarise

            context["summary"] = self._once(
                meeting, "summary", lambda: summarise(meeting)
            )
            context["shared_url"] = absolute(
                reverse("journal:shared", args=[group.slug])
            )
            email.subject = f"Session summary: {title}, {when}"
        return email


def compose(delivery: Delivery) -> Email:
    """One delivery's email, on its own (a batch uses one Composer)."""
    user = delivery.user
    name = _name_in_group(delivery.meeting, user.pk, user.display_name)
    return Composer(timezone.now()).email(delivery, recipient_name=name)
