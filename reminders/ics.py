"""Calendar invitations (RFC 5546 iTIP): built once per session, then given
each recipient's ATTENDEE line.

REQUEST for reminders and updates, CANCEL for cancellations; the UID is the
session's, and SEQUENCE its revision, so a calendar app replaces what it
already holds instead of adding a second entry. Times are written in the
session's own zone with a VTIMEZONE.
"""

from __future__ import annotations

import datetime as dt
from email.utils import parseaddr
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.utils import timezone

from accounts.emails import one_line
from groups.ics import PRODID
from groups.models import Meeting

REQUEST = "REQUEST"
CANCEL = "CANCEL"


@lru_cache(maxsize=64)
def _vtimezone(zone_key: str, year: int) -> icalendar.Timezone:
    """The zone's rules around one year. Built once per zone and year: the
    full 1970-2038 history is slow to build and heavy in every email."""
    return icalendar.Timezone.from_tzinfo(
        ZoneInfo(zone_key),
        tzid=zone_key,
        first_date=dt.date(year - 1, 1, 1),
        last_date=dt.date(year + 2, 1, 1),
    )


def _organizer_address() -> str:
    # "Hearth <hearth@example.org>" → hearth@example.org
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "hearth@localhost"


def event_for_all(
    meeting: Meeting, *, method: str, stamp: dt.datetime | None = None
) -> bytes:
    """The invitation without its ATTENDEE line: the same bytes for everyone
    invited to the session, so a batch builds it once per session."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", stamp or timezone.now())
    event.add("sequence", meeting.sequence)
    event.add("dtstart", meeting.starts_at.astimezone(meeting.zone))
    event.add("dtend", meeting.ends_at.astimezone(meeting.zone))
    event.add("summary", one_line(f"{meeting.title} · {meeting.group.name}", 200))
    url = f"{settings.SITE_URL}{meeting.get_absolute_url()}"
    event.add("description", f"{meeting.description or 'A Hearth session.'}\n\n{url}")
    event.add("url", url)
    organizer = icalendar.vCalAddress(f"mailto:{_organizer_address()}")
    organizer.params["cn"] = icalendar.vText(one_line(meeting.group.name, 80))
    event.add("organizer", organizer)
    if method == CANCEL or meeting.is_cancelled:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    cal.add_component(_vtimezone(meeting.timezone, meeting.starts_at.year))
    cal.add_component(event)
    return cal.to_ical()


END_EVENT = b"\r\nEND:VEVENT\r\n"


def with_attendee(shared: bytes, *, email: str, name: str) -> bytes:
    """Add one recipient's ATTENDEE line to `event_for_all`'s bytes.

    The line is written by icalendar too (quoting, folding); a folded line
    never starts with END, so the split below is exact."""
    attendee = icalendar.vCalAddress(f"mailto:{email}")
    attendee.params["cn"] = icalendar.vText(one_line(name, 80))
    attendee.params["role"] = icalendar.vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = icalendar.vText("FALSE")
    line = icalendar.Event().content_line("ATTENDEE", attendee).to_ical()
    head, found, tail = shared.rpartition(END_EVENT)
    assert found, "not an event_for_all() calendar"
    return head + b"\r\n" + line + END_EVENT + tail


def as_attachment(content: bytes, *, method: str) -> tuple[str, bytes, str]:
    filename = "cancel.ics" if method == CANCEL else "invite.ics"
    return filename, content, f"text/calendar; method={method}"
