"""Who should get what: group options, personal switches, opt-outs, RSVPs.

Everything here reads in bulk (a sweep looks at many sessions at once);
`checks` asks again, for each email, just before it leaves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from groups.models import RSVP, Membership
from reminders.models import (
    Family,
    GroupOptOut,
    GroupReminderOptions,
    MemberPreferences,
)

SWITCH_OF_FAMILY = {
    Family.REMINDERS: "email_reminders",
    Family.UPDATES: "email_group_updates",
    Family.REFLECTIONS: "email_reflections",
}


def options_for(group_ids: Iterable[int]) -> dict[int, GroupReminderOptions]:
    """Each group's options; unsaved defaults for groups that kept them."""
    ids = set(group_ids)
    found = {
        o.group_id: o for o in GroupReminderOptions.objects.filter(group_id__in=ids)
    }
    for group_id in ids - found.keys():
        found[group_id] = GroupReminderOptions(group_id=group_id)
    return found


def opted_out(group_ids: Iterable[int], family: str) -> set[tuple[int, int]]:
    """(user_id, group_id) pairs that opted out of a family of emails."""
    return set(
        GroupOptOut.objects.filter(
            group_id__in=set(group_ids), family=family
        ).values_list("user_id", "group_id")
    )


def preferences_for(user_ids: Iterable[int]) -> dict[int, MemberPreferences]:
    return {
        p.user_id: p
        for p in MemberPreferences.objects.filter(user_id__in=set(user_ids))
    }


@dataclass(frozen=True)
class Person:
    user_id: int
    timezone: str


def reminder_audience(
    meetings: Iterable[tuple[int, int]],
) -> dict[int, list[Person]]:
    """For (meeting_id, group_id) pairs: members to remind, per meeting.

    Going: yes. Not going or waiting for a seat: no. Not answered: per the
    group's option. Only people who keep reminders switched on."""
    pairs = list(meetings)
    group_ids = {g for _, g in pairs}
    options = options_for(group_ids)
    out = opted_out(group_ids, Family.REMINDERS)
    members: dict[int, list[Person]] = defaultdict(list)
    rows = Membership.objects.filter(
        group_id__in=group_ids, user__is_active=True, user__email_reminders=True
    ).values_list("group_id", "user_id", "user__timezone")
    for group_id, user_id, zone in rows:
        if (user_id, group_id) not in out:
            members[group_id].append(Person(user_id, zone))
    answers: dict[int, dict[int, str]] = defaultdict(dict)
    for meeting_id, user_id, status in RSVP.objects.filter(
        meeting_id__in=[m for m, _ in pairs]
    ).values_list("meeting_id", "user_id", "status"):
        answers[meeting_id][user_id] = status
    audience: dict[int, list[Person]] = {}
    for meeting_id, group_id in pairs:
        unanswered_ok = options[group_id].remind_unanswered
        chosen = []
        for person in members[group_id]:
            answer = answers[meeting_id].get(person.user_id)
            if answer == RSVP.Status.GOING or (answer is None and unanswered_ok):
                chosen.append(person)
        audience[meeting_id] = chosen
    return audience
