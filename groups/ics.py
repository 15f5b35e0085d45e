"""iCalendar files: one session, or a member's private feed.

Times are written in the session's own zone with a VTIMEZONE, so calendar
apps keep a 19:00 Berlin session at 19:00 Berlin whatever their own zone.
"""

from __future__ import annotations

from collections.abc import Iterable

import icalendar
from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User

from .models import Meeting

PRODID = "-//Hearth//Peer support sessions//EN"
FEED_SALT = "hearth.calendar-feed"


def _event(meeting: Meeting) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", timezone.now())
    event.add("sequence", meeting.sequence)
    event.add("dtstart", meeting.starts_at.astimezone(meeting.zone))
    event.add("dtend", meeting.ends_at.astimezone(meeting.zone))
    event.add("summary", f"{meeting.title} · {meeting.group.name}")
    description = meeting.description or "A Hearth peer-support session."
    url = f"{settings.SITE_URL}{meeting.get_absolute_url()}"
    event.add("description", f"{description}\n\n{url}")
    event.add("url", url)
    event.add("status", "CANCELLED" if meeting.is_cancelled else "CONFIRMED")
    return event


def calendar_bytes(
    meetings: Iterable[Meeting], *, name: str = "", method: str = "PUBLISH"
) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)
    for meeting in meetings:
        cal.add_component(_event(meeting))
    cal.add_missing_timezones()
    return cal.to_ical()


def feed_token(user: User) -> str:
    """A private, revocable feed token: user id, generation and a MAC.

    Nothing secret is stored; bumping the generation revokes old links."""
    pk, generation = user.pk, user.calendar_feed_generation
    mac = salted_hmac(FEED_SALT, f"{pk}.{generation}", algorithm="sha256").hexdigest()
    return f"{pk}-{generation}-{mac[:40]}"


def user_for_feed_token(token: str) -> User | None:
    try:
        pk_text, generation_text, mac = token.split("-", 2)
        pk, generation = int(pk_text), int(generation_text)
    except ValueError:
        return None
    expected = salted_hmac(FEED_SALT, f"{pk}.{generation}", algorithm="sha256")
    if not constant_time_compare(mac, expected.hexdigest()[:40]):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or user.calendar_feed_generation != generation:
        return None
    return user


__all__ = ["calendar_bytes", "feed_token", "user_for_feed_token"]
