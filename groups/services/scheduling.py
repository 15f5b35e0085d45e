"""Scheduling sessions, recurring series, RSVPs and the waitlist."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from groups import tasks
from groups.access import require_facilitating, require_member
from groups.models import (
    FACILITATING_ROLES,
    RSVP,
    Frequency,
    Meeting,
    MeetingSeries,
    SupportGroup,
)
from groups.schedule import Resolved, resolve_local, series_dates

MEETING_FIELDS = ("title", "description", "duration_minutes", "capacity")


def _check_future(at: dt.datetime) -> None:
    if at <= timezone.now():
        raise ValidationError("Choose a time in the future.")


def _resolve(day: dt.date, at: dt.time, zone: Any) -> Resolved:
    """resolve_local, with dates at the calendar's edges refused cleanly."""
    if not 1900 <= day.year <= 2999:
        raise ValidationError("Choose a date between the years 1900 and 2999.")
    return resolve_local(day, at, zone)


@transaction.atomic
def schedule_meeting(
    *,
    group: SupportGroup,
    by: Any,
    day: dt.date,
    at: dt.time,
    title: str,
    description: str = "",
    duration_minutes: int = 60,
    capacity: int | None = None,
) -> tuple[Meeting, str]:
    """A one-off session at a local time in the group's zone.

    Returns the meeting and a note when a DST change moved the time."""
    require_facilitating(group, by)
    resolved = _resolve(day, at, group.zone)
    _check_future(resolved.at)
    meeting = Meeting(
        group=group,
        title=title,
        description=description,
        starts_at=resolved.at,
        duration_minutes=duration_minutes,
        capacity=capacity,
        timezone=group.timezone,
    )
    meeting.full_clean(exclude=["ends_at"])
    meeting.save()
    return meeting, resolved.note


def _horizon() -> dt.date:
    return timezone.now().date() + dt.timedelta(
        days=settings.HEARTH["SERIES_HORIZON_DAYS"]
    )


def _pattern(series: MeetingSeries, until: dt.date) -> list[dt.date]:
    return list(
        series_dates(
            frequency=series.frequency,
            weekday=series.weekday,
            week_of_month=series.week_of_month,
            starts_on=series.starts_on,
            ends_on=series.ends_on,
            until=until,
        )
    )


def _occurrence_fields(
    series: MeetingSeries, day: dt.date
) -> tuple[dict[str, Any], str]:
    resolved = _resolve(day, series.local_time, series.zone)
    return (
        {
            "title": series.title,
            "description": series.description,
            "starts_at": resolved.at,
            "duration_minutes": series.duration_minutes,
            "capacity": series.capacity,
            "timezone": series.timezone,
        },
        resolved.note,
    )


@transaction.atomic
def extend_series(series: MeetingSeries, until: dt.date | None = None) -> list[str]:
    """Store the series' occurrences up to the horizon; running it twice adds
    nothing. Returns the DST notes of the occurrences it created."""
    until = until or _horizon()
    existing = set(series.meetings.values_list("occurrence_date", flat=True))
    now = timezone.now()
    notes = []
    for day in _pattern(series, until):
        if day in existing:
            continue
        fields, note = _occurrence_fields(series, day)
        if fields["starts_at"] <= now:
            continue
        Meeting.objects.create(
            group_id=series.group_id, series=series, occurrence_date=day, **fields
        )
        if note:
            notes.append(note)
    series.generated_until = until
    series.save(update_fields=["generated_until"])
    return notes


def extend_all_series() -> int:
    """The periodic sweep: keep every open-ended series stocked ahead."""
    today = timezone.now().date()
    count = 0
    open_series = MeetingSeries.objects.filter(group__archived_at__isnull=True).exclude(
        ends_on__lt=today
    )
    for series in open_series:
        extend_series(series)
        count += 1
    return count


def _validate_series(series: MeetingSeries) -> None:
    if series.frequency == Frequency.MONTHLY and series.week_of_month is None:
        raise ValidationError({"week_of_month": "Choose which week of the month."})
    if series.frequency != Frequency.MONTHLY:
        series.week_of_month = None
    if series.ends_on and series.ends_on < series.starts_on:
        raise ValidationError({"ends_on": "The series has to end after it starts."})
    series.full_clean(exclude=["generated_until"])


@transaction.atomic
def create_series(
    *, group: SupportGroup, by: Any, **fields: Any
) -> tuple[MeetingSeries, list[str]]:
    """A recurring session in the group's zone, stored up to the horizon."""
    require_facilitating(group, by)
    series = MeetingSeries(
        group=group, created_by=by, timezone=group.timezone, **fields
    )
    _validate_series(series)
    series.save()
    notes = extend_series(series)
    if not series.meetings.exists():
        raise ValidationError("That pattern has no future dates; check the dates.")
    return series, notes


@transaction.atomic
def edit_series(*, series: MeetingSeries, by: Any, **fields: Any) -> list[str]:
    """Change the whole series from now on. Occurrences edited on their own
    keep their changes; dates that leave the pattern are cancelled (or
    dropped when nobody had answered)."""
    require_facilitating(series.group, by)
    for name, value in fields.items():
        setattr(series, name, value)
    _validate_series(series)
    series.save()
    now = timezone.now()
    wanted = set(_pattern(series, _horizon()))
    notes = []
    future = series.meetings.select_for_update().filter(
        starts_at__gt=now, detached=False, status=Meeting.Status.SCHEDULED
    )
    for meeting in future:
        if meeting.occurrence_date not in wanted:
            if meeting.rsvps.exists():
                _cancel(meeting)
            else:
                meeting.delete()
            continue
        values, note = _occurrence_fields(series, meeting.occurrence_date)
        if any(getattr(meeting, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(meeting, key, value)
            meeting.sequence += 1
            meeting.save()
            if note:
                notes.append(note)
    notes += extend_series(series)
    return notes


@transaction.atomic
def edit_meeting(
    *,
    meeting: Meeting,
    by: Any,
    day: dt.date,
    at: dt.time,
    **fields: Any,
) -> str:
    """Change one session. An occurrence of a series is detached from it."""
    require_facilitating(meeting.group, by)
    if meeting.is_cancelled:
        raise ValidationError("This session was cancelled.")
    resolved = _resolve(day, at, meeting.zone)
    if resolved.at != meeting.starts_at:
        _check_future(resolved.at)
    meeting.starts_at = resolved.at
    for name in MEETING_FIELDS:
        if name in fields:
            setattr(meeting, name, fields[name])
    meeting.detached = meeting.series_id is not None
    meeting.sequence += 1
    meeting.full_clean(exclude=["ends_at"])
    meeting.save()
    _promote(meeting)
    return resolved.note


def _cancel(meeting: Meeting) -> None:
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancelled_at = timezone.now()
    meeting.sequence += 1
    meeting.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"])


@transaction.atomic
def cancel_meeting(*, meeting: Meeting, by: Any) -> None:
    require_facilitating(meeting.group, by)
    if meeting.is_cancelled:
        raise ValidationError("This session is already cancelled.")
    if meeting.is_past:
        raise ValidationError("This session has already taken place.")
    _cancel(meeting)


def _seats_taken(meeting: Meeting) -> int:
    return meeting.rsvps.filter(status=RSVP.Status.GOING, takes_seat=True).count()


def _promote(meeting: Meeting) -> list[RSVP]:
    """Fill free seats from the waitlist, first come first served."""
    promoted: list[RSVP] = []
    free = meeting.seats - _seats_taken(meeting)
    if free <= 0:
        return promoted
    waiting = meeting.rsvps.filter(status=RSVP.Status.WAITLISTED).order_by(
        "waitlisted_at", "pk"
    )[:free]
    for rsvp in waiting:
        rsvp.status = RSVP.Status.GOING
        rsvp.waitlisted_at = None
        rsvp.save(update_fields=["status", "waitlisted_at"])
        tasks.notify_waitlist_promotion.delay_on_commit(rsvp.pk)
        promoted.append(rsvp)
    return promoted


def release_seat(rsvp: RSVP) -> None:
    """Someone stops going (or leaves the group): free the seat, promote."""
    meeting = Meeting.objects.select_for_update().get(pk=rsvp.meeting_id)
    rsvp.delete()
    _promote(meeting)


@transaction.atomic
def respond(*, meeting: Meeting, user: Any, going: bool) -> RSVP:
    """RSVP. A full session puts a member on the waitlist; a freed seat goes
    to the first person waiting."""
    membership = require_member(meeting.group, user)
    meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if meeting.is_cancelled:
        raise ValidationError("This session was cancelled.")
    if meeting.is_past:
        raise ValidationError("This session has already taken place.")
    takes_seat = membership.role not in FACILITATING_ROLES
    rsvp = RSVP.objects.filter(meeting=meeting, user=user).first()
    was_holding_seat = bool(
        rsvp and rsvp.status == RSVP.Status.GOING and rsvp.takes_seat
    )
    if rsvp is None:
        rsvp = RSVP(meeting=meeting, user=user)
    rsvp.takes_seat = takes_seat
    rsvp.responded_at = timezone.now()
    if not going:
        rsvp.status = RSVP.Status.NOT_GOING
        rsvp.waitlisted_at = None
        rsvp.save()
        if was_holding_seat:
            _promote(meeting)
        return rsvp
    if rsvp.status in (RSVP.Status.GOING, RSVP.Status.WAITLISTED) and rsvp.pk:
        rsvp.save()
        return rsvp
    if not takes_seat or _seats_taken(meeting) < meeting.seats:
        rsvp.status = RSVP.Status.GOING
        rsvp.waitlisted_at = None
    else:
        rsvp.status = RSVP.Status.WAITLISTED
        rsvp.waitlisted_at = timezone.now()
    rsvp.save()
    return rsvp
