"""Pure scheduling rules: local wall-clock times to UTC, and series dates.

No database here, so every DST rule is a plain unit test.

A local time that does not exist (inside a spring-forward gap) moves forward
by the length of the gap, and one that happens twice (in an autumn overlap)
takes the first occurrence: both as RFC 5545 prescribes for DTSTART.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC


@dataclass(frozen=True)
class Resolved:
    """A local time resolved to an instant, with a note when DST changed it."""

    at: dt.datetime  # aware, UTC
    note: str = ""

    @property
    def adjusted(self) -> bool:
        return bool(self.note)


def _exists(local: dt.datetime, zone: ZoneInfo) -> bool:
    round_trip = local.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
    return round_trip.replace(tzinfo=None) == local


def resolve_local(day: dt.date, at: dt.time, zone: ZoneInfo) -> Resolved:
    """The UTC instant for a wall-clock time in a zone."""
    naive = dt.datetime.combine(day, at.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if not _exists(naive, zone):
        # In a gap: fold=0 uses the offset from before the gap, which is
        # exactly "shift forward by the gap" once normalised.
        shifted = first.astimezone(UTC)
        shown = shifted.astimezone(zone)
        return Resolved(
            shifted,
            f"{naive:%H:%M} does not exist on {day:%-d %B %Y} in {zone.key} "
            f"(clocks go forward), so it is scheduled at {shown:%H:%M} local time.",
        )
    if first.utcoffset() != second.utcoffset():
        chosen = first.astimezone(UTC)
        return Resolved(
            chosen,
            f"{naive:%H:%M} happens twice on {day:%-d %B %Y} in {zone.key} "
            f"(clocks go back); the first one, at {first:%H:%M %Z} "
            f"({chosen:%H:%M} UTC), is used.",
        )
    return Resolved(first.astimezone(UTC))


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> dt.date | None:
    """The nth (1..4, or -1 for last) given weekday of a month."""
    days = [
        week[weekday]
        for week in calendar.Calendar().monthdatescalendar(year, month)
        if week[weekday].month == month
    ]
    if nth == -1:
        return days[-1]
    if 1 <= nth <= len(days):
        return days[nth - 1]
    return None


def series_dates(
    *,
    frequency: str,
    weekday: int,
    starts_on: dt.date,
    until: dt.date,
    week_of_month: int | None = None,
    ends_on: dt.date | None = None,
) -> Iterator[dt.date]:
    """Local dates of a series from starts_on to min(until, ends_on), inclusive."""
    last = min(until, ends_on) if ends_on else until
    if frequency in ("weekly", "fortnightly"):
        step = dt.timedelta(weeks=1 if frequency == "weekly" else 2)
        day = starts_on + dt.timedelta(days=(weekday - starts_on.weekday()) % 7)
        while day <= last:
            yield day
            day += step
        return
    if frequency == "monthly":
        if week_of_month is None:
            raise ValueError("a monthly series needs week_of_month")
        year, month = starts_on.year, starts_on.month
        while dt.date(year, month, 1) <= last:
            day_or_none = nth_weekday(year, month, weekday, week_of_month)
            if day_or_none is not None and starts_on <= day_or_none <= last:
                yield day_or_none
            month += 1
            if month == 13:
                year, month = year + 1, 1
        return
    raise ValueError(f"unknown frequency {frequency!r}")
