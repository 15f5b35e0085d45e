"""The re-checks just before an email leaves, for a whole batch at once.

The sweep decided who gets what minutes (or days) ago; by now someone may
have left the group, switched the emails off, answered "not going", or the
session may have moved. `Facts.load` reads what the checks need for every
delivery of a batch in a fixed number of queries; `why_not` and
`quiet_deferral` then decide row by row without touching the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from groups.models import FACILITATING_ROLES, RSVP
from reminders.models import (
    Delivery,
    Family,
    GroupOptOut,
    GroupReminderOptions,
    Kind,
    MemberPreferences,
    State,
)
from reminders.quiet import quiet_until

from .audience import SWITCH_OF_FAMILY, options_for, preferences_for

QUIET_KINDS = (Kind.REMINDER, Kind.REFLECTION, Kind.MISSED, Kind.SUMMARY)


@dataclass
class Facts:
    # (group_id, user_id) → (role, display name in the group)
    memberships: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)
    opted_out: set[tuple[int, int, str]] = field(default_factory=set)
    answers: dict[tuple[int, int], str] = field(default_factory=dict)
    options: dict[int, GroupReminderOptions] = field(default_factory=dict)
    # (meeting_id, user_id, sequence) → reminder offsets still open or sent
    reminder_offsets: dict[tuple[int, int, int], list[int]] = field(
        default_factory=dict
    )
    reflected: set[tuple[int, int]] = field(default_factory=set)
    prefs: dict[int, MemberPreferences] = field(default_factory=dict)

    @classmethod
    def load(cls, deliveries: Sequence[Delivery]) -> Facts:
        """Everything the checks read, for these deliveries (with their
        meeting and user loaded): at most seven queries."""
        facts = cls()
        if not deliveries:
            return facts
        users = {d.user_id for d in deliveries}
        groups = {d.meeting.group_id for d in deliveries}
        meetings = {d.meeting_id for d in deliveries}
        kinds = {d.kind for d in deliveries}
        from groups.models import Membership

        for group_id, user_id, role, name in Membership.objects.filter(
            group_id__in=groups, user_id__in=users
        ).values_list("group_id", "user_id", "role", "display_name"):
            facts.memberships[group_id, user_id] = (role, name)
        facts.opted_out = set(
            GroupOptOut.objects.filter(
                group_id__in=groups, user_id__in=users
            ).values_list("user_id", "group_id", "family")
        )
        facts.options = options_for(groups)
        facts.prefs = preferences_for(users)
        if Kind.REMINDER in kinds:
            for meeting_id, user_id, status in RSVP.objects.filter(
                meeting_id__in=meetings, user_id__in=users
            ).values_list("meeting_id", "user_id", "status"):
                facts.answers[meeting_id, user_id] = status
            for meeting_id, user_id, sequence, offset in (
                Delivery.objects.filter(
                    meeting_id__in=meetings, user_id__in=users, kind=Kind.REMINDER
                )
                .exclude(state__in=[State.CANCELLED, State.SKIPPED])
                .values_list("meeting_id", "user_id", "sequence", "offset_minutes")
            ):
                key = (meeting_id, user_id, sequence)
                facts.reminder_offsets.setdefault(key, []).append(offset)
        if Kind.REFLECTION in kinds:
            from journal.models import Reflection

            facts.reflected = set(
                Reflection.objects.filter(
                    meeting_id__in=meetings, author_id__in=users
                ).values_list("meeting_id", "author_id")
            )
        return facts

    def name_in_group(self, delivery: Delivery) -> str:
        found = self.memberships.get((delivery.meeting.group_id, delivery.user_id))
        return (found[1] if found else "") or delivery.user.display_name


def wants(facts: Facts, delivery: Delivery) -> bool:
    """The person's switches for this family of emails from this group."""
    user, family = delivery.user, delivery.family
    if not user.is_active or not getattr(user, SWITCH_OF_FAMILY[Family(family)]):
        return False
    return (user.pk, delivery.meeting.group_id, family) not in facts.opted_out


def why_not(facts: Facts, delivery: Delivery, now: dt.datetime) -> str:
    """A short reason this email should no longer be sent, or ""."""
    meeting, user_id = delivery.meeting, delivery.user_id
    membership = facts.memberships.get((meeting.group_id, user_id))
    if membership is None:
        return "left-group"
    if not wants(facts, delivery):
        return "opted-out"
    kind = delivery.kind
    options = facts.options[meeting.group_id]
    if kind in (Kind.REMINDER, Kind.UPDATE):
        if meeting.is_cancelled:
            return "cancelled"
        if delivery.sequence != meeting.sequence:
            return "moved"
    if kind == Kind.REMINDER:
        if meeting.starts_at <= now:
            return "started"
        answer = facts.answers.get((meeting.pk, user_id))
        if answer in (RSVP.Status.NOT_GOING, RSVP.Status.WAITLISTED):
            return "not-going"
        if answer is None and not options.remind_unanswered:
            return "not-answered"
        offsets = facts.reminder_offsets.get((meeting.pk, user_id, delivery.sequence))
        if any(o < delivery.offset_minutes for o in offsets or ()):
            return "superseded"
    if kind == Kind.UPDATE and meeting.ends_at <= now:
        return "over"
    if kind == Kind.CANCELLATION and not meeting.is_cancelled:
        return "not-cancelled"
    if kind == Kind.SUMMARY and membership[0] not in FACILITATING_ROLES:
        return "not-facilitating"
    if kind == Kind.REFLECTION and (meeting.pk, user_id) in facts.reflected:
        return "already-reflected"
    if kind == Kind.MISSED and not options.missed_follow_up:
        return "option-off"
    return ""


def quiet_deferral(
    facts: Facts, delivery: Delivery, now: dt.datetime
) -> dt.datetime | None:
    """When the member's quiet hours end, if they hold this email now."""
    if delivery.kind not in QUIET_KINDS:
        return None
    prefs = facts.prefs.get(delivery.user_id)
    if prefs is None or not prefs.has_quiet_hours:
        return None
    assert prefs.quiet_start is not None and prefs.quiet_end is not None
    return quiet_until(
        now, start=prefs.quiet_start, end=prefs.quiet_end, zone=delivery.user.zone
    )
