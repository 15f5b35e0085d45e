"""Quiet hours: pure time arithmetic in the member's own zone.

A window like 22:00-08:00 wraps midnight. Local times are resolved with the
same rules as sessions (a time in a DST gap moves forward), so a deferral
always lands on a real instant.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from groups.schedule import resolve_local


def in_quiet_hours(
    at: dt.datetime, *, start: dt.time, end: dt.time, zone: ZoneInfo
) -> bool:
    if start == end:
        return False
    local = at.astimezone(zone).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(
    at: dt.datetime, *, start: dt.time, end: dt.time, zone: ZoneInfo
) -> dt.datetime | None:
    """The instant the window around `at` ends, or None when `at` is not
    inside quiet hours."""
    if not in_quiet_hours(at, start=start, end=end, zone=zone):
        return None
    day = at.astimezone(zone).date()
    for extra in (0, 1):
        candidate = resolve_local(day + dt.timedelta(days=extra), end, zone).at
        if candidate > at:
            return candidate
    return resolve_local(day + dt.timedelta(days=2), end, zone).at
