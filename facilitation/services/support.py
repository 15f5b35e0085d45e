"""A member asks for help from the room: "I'd like support" (after the
gentle check-in) and "I'm not safe right now". The safety app decides and
records; this module finds the member, the group and the session, and
hands the crisis card back for the sender alone (docs/safety.md, "Asking
for help"). Neither needs the member to be admitted or unmuted: asking for
help is always allowed to a member of the group.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from accounts.models import User
from facilitation import ratelimit
from facilitation.models import LiveRoom
from groups.models import Meeting
from safety import services as safety

from .messages import facilitators_connected
from .rooms import Participant, recheck

log = logging.getLogger("hearth.room")


def _context(who: Participant) -> tuple[User, Meeting, Any]:
    member = User.objects.get(pk=who.user_id)
    meeting = Meeting.objects.select_related("group").get(pk=who.meeting_id)
    room = LiveRoom.objects.filter(meeting_id=who.meeting_id).first()
    return member, meeting, lambda: room is not None and facilitators_connected(room)


@transaction.atomic
def request_support(*, who: Participant) -> dict[str, Any]:
    """ "I'd like support": the card, and a private concern-tier alert for
    the group's facilitators. Treated as a plain support request: it is
    honoured whether or not a check-in was offered. Over the rate limit the
    card still comes back, without a new alert."""
    who = recheck(who)
    verdict = ratelimit.check(f"support:{who.user_id}", per_minute=6, burst=3)
    member, meeting, connected = _context(who)
    answer = safety.ask_for_support(
        group=meeting.group,
        member=member,
        meeting=meeting,
        facilitators_connected=connected,
        alert=verdict.allowed,
    )
    log.info(
        "support request room=%s user=%s alert=%s",
        who.meeting_id,
        who.user_id,
        answer.alerts[0].pk if answer.alerts else None,
    )
    return dict(answer.card)


@transaction.atomic
def not_safe(*, who: Participant) -> dict[str, Any]:
    """ "I'm not safe right now": the card at once and an urgent private
    alert for the group's facilitators (emailed when none is connected);
    safety limits how many new alerts one person raises (then it bumps)."""
    who = recheck(who)
    member, meeting, connected = _context(who)
    answer = safety.say_not_safe(
        member=member,
        targets=[(meeting.group, meeting)],
        facilitators_connected=connected,
    )
    log.info(
        "not safe room=%s user=%s alerts=%s repeated=%s",
        who.meeting_id,
        who.user_id,
        [a.pk for a in answer.alerts],
        answer.repeated,
    )
    return dict(answer.card)
