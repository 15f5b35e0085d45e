"""The once-a-minute sweep: notice what became due, record it, send it.

Each step writes delivery rows under the `one_delivery` uniqueness
constraint (inserts that collide are ignored), so two sweeps at once, or a
sweep re-run after a crash, record every delivery exactly once. Sending is
a separate step that only ever hands ids to the worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from facilitation.models import Attendance, LiveRoom
from groups.models import FACILITATING_ROLES, RSVP, Meeting, Membership
from reminders.models import (
    Delivery,
    Family,
    Kind,
    MeetingWatch,
    MemberPreferences,
    State,
    WrapUp,
)
from reminders.quiet import quiet_until

from .audience import options_for, preferences_for, reminder_audience

log = logging.getLogger("hearth.reminders")

LOOKAHEAD = dt.timedelta(days=7)  # the longest reminder offset a group may pick
WRAP_UP_WINDOW = dt.timedelta(days=7)  # older sessions are not followed up
DISPATCH_LIMIT = 5000
RECORD_CHUNK = 2000  # delivery rows per transaction when recording reminders


def policy(name: str, default: int) -> int:
    return int(settings.HEARTH.get(name, default))


@dataclass
class SweepReport:
    updates: int = 0
    reminders: int = 0
    follow_ups: int = 0
    summaries: int = 0
    dispatched: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "updates": self.updates,
            "reminders": self.reminders,
            "follow_ups": self.follow_ups,
            "summaries": self.summaries,
            "dispatched": self.dispatched,
        }


def _send_after(
    due: dt.datetime, now: dt.datetime, prefs: MemberPreferences | None, zone: str
) -> dt.datetime:
    """When it may leave: now (or its due time), later inside quiet hours."""
    at = max(due, now)
    if prefs is None or not prefs.has_quiet_hours:
        return at
    from zoneinfo import ZoneInfo

    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    assert prefs.quiet_start is not None and prefs.quiet_end is not None
    return quiet_until(at, start=prefs.quiet_start, end=prefs.quiet_end, zone=tz) or at


def _insert(rows: list[Delivery]) -> int:
    """Record deliveries; rows that already exist are left as they are."""
    if not rows:
        return 0
    before = len(rows)
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return before


# --- 1. Changes: a new time or a cancellation is announced once -----------
def watch_new_meetings(now: dt.datetime) -> None:
    unseen = Meeting.objects.filter(
        ends_at__gt=now, reminder_watch__isnull=True
    ).values_list("pk", "sequence")
    MeetingWatch.objects.bulk_create(
        [MeetingWatch(meeting_id=pk, sequence=seq) for pk, seq in unseen],
        ignore_conflicts=True,
        batch_size=500,
    )


def record_changes(now: dt.datetime) -> int:
    """Sessions whose revision moved since the last sweep: cancel what was
    pending for the old revision and announce the new one to everyone who
    was told about it (reminded, or said they'd come)."""
    watch_new_meetings(now)
    changed = list(
        Meeting.objects.filter(ends_at__gt=now, reminder_watch__isnull=False)
        .exclude(sequence=F("reminder_watch__sequence"))
        .values_list("pk", flat=True)
    )
    recorded = 0
    for meeting_id in changed:
        recorded += _announce_change(meeting_id, now)
    return recorded


@transaction.atomic
def _announce_change(meeting_id: int, now: dt.datetime) -> int:
    watch = MeetingWatch.objects.select_for_update().get(meeting_id=meeting_id)
    meeting = Meeting.objects.get(pk=meeting_id)
    if watch.sequence == meeting.sequence:
        return 0  # another sweep got here first
    cancelled = meeting.is_cancelled
    Delivery.objects.open().filter(
        meeting_id=meeting_id,
        kind__in=[Kind.REMINDER, Kind.UPDATE],
        sequence__lt=meeting.sequence,
    ).update(state=State.CANCELLED, reason="cancelled" if cancelled else "moved")
    told = set(
        Delivery.objects.filter(
            meeting_id=meeting_id,
            kind__in=[Kind.REMINDER, Kind.UPDATE],
            state=State.SENT,
        ).values_list("user_id", flat=True)
    )
    told |= set(
        RSVP.objects.filter(
            meeting_id=meeting_id, status=RSVP.Status.GOING
        ).values_list("user_id", flat=True)
    )
    current = Membership.objects.filter(
        group_id=meeting.group_id, user_id__in=told, user__is_active=True
    ).values_list("user_id", "user__timezone")
    kind = Kind.CANCELLATION if cancelled else Kind.UPDATE
    rows = [
        Delivery(
            meeting_id=meeting_id,
            user_id=user_id,
            kind=kind,
            sequence=meeting.sequence,
            due_at=now,
            send_after=now,  # time-critical: quiet hours do not hold these
        )
        for user_id, _zone in current
    ]
    watch.sequence, watch.changed_at = meeting.sequence, now
    watch.save(update_fields=["sequence", "changed_at"])
    log.info(
        "session changed meeting=%s revision=%s kind=%s recipients=%s",
        meeting_id,
        meeting.sequence,
        kind,
        len(rows),
    )
    return _insert(rows)


# --- 2. Reminders ----------------------------------------------------------
def _step_key(sequence: int, offset: int) -> str:
    return f"{sequence}:{offset}"


def record_due_reminders(now: dt.datetime) -> int:
    """For every scheduled session starting soon, the tightest reminder step
    that is due (a session booked at short notice gets one reminder, not
    two at once). Steps due before the last change are covered by the
    change notice and skipped."""
    candidates = (
        Meeting.objects.filter(
            status=Meeting.Status.SCHEDULED,
            starts_at__gt=now,
            starts_at__lte=now + LOOKAHEAD,
            reminder_watch__sequence=F("sequence"),
        )
        .values_list(
            "pk",
            "group_id",
            "starts_at",
            "sequence",
            "reminder_watch__changed_at",
            "reminder_watch__recorded",
        )
        .order_by("starts_at", "pk")
    )
    rows = list(candidates)
    options = options_for({r[1] for r in rows})
    due: list[tuple[int, int, int, int, dt.datetime]] = []
    for meeting_id, group_id, starts_at, sequence, changed_at, recorded in rows:
        steps = [
            o
            for o in options[group_id].clean_offsets()
            if starts_at - dt.timedelta(minutes=o) <= now
        ]
        if not steps:
            continue
        offset = min(steps)
        due_at = starts_at - dt.timedelta(minutes=offset)
        if _step_key(sequence, offset) in (recorded or []):
            continue
        if changed_at is not None and due_at <= changed_at:
            continue
        due.append((meeting_id, group_id, sequence, offset, due_at))
    if not due:
        return 0
    audience = reminder_audience((m, g) for m, g, *_ in due)
    people = {p.user_id for persons in audience.values() for p in persons}
    prefs = preferences_for(people)
    # Sessions are recorded a chunk at a time: each chunk's rows and the
    # marks saying they were recorded commit together.
    total = 0
    chunk: list[Delivery] = []
    marks: dict[int, str] = {}
    for meeting_id, _group_id, sequence, offset, due_at in due:
        chunk += [
            Delivery(
                meeting_id=meeting_id,
                user_id=person.user_id,
                kind=Kind.REMINDER,
                offset_minutes=offset,
                sequence=sequence,
                due_at=due_at,
                send_after=_send_after(
                    due_at, now, prefs.get(person.user_id), person.timezone
                ),
            )
            for person in audience[meeting_id]
        ]
        marks[meeting_id] = _step_key(sequence, offset)
        if len(chunk) >= RECORD_CHUNK:
            total += _record_chunk(chunk, marks)
            chunk, marks = [], {}
    if marks:
        total += _record_chunk(chunk, marks)
    return total


@transaction.atomic
def _record_chunk(rows: list[Delivery], marks: dict[int, str]) -> int:
    recorded = _insert(rows)
    watches = (
        MeetingWatch.objects.select_for_update()
        .filter(meeting_id__in=marks)
        .order_by("meeting_id")  # one locking order for two sweeps at once
    )
    changed = []
    for watch in watches:
        if marks[watch.meeting_id] not in watch.recorded:
            watch.recorded = [*watch.recorded, marks[watch.meeting_id]]
            changed.append(watch)
    MeetingWatch.objects.bulk_update(changed, ["recorded"], batch_size=500)
    return recorded


# --- 3. After a session: invitations to reflect, notes, summaries ---------
def _ended_rooms(now: dt.datetime, delay_minutes: int, step: str) -> list[LiveRoom]:
    until = now - dt.timedelta(minutes=delay_minutes)
    done = {f"meeting__reminder_wrap_up__{step}__isnull": False}
    return list(
        LiveRoom.objects.filter(
            ended_at__isnull=False,
            ended_at__lte=until,
            ended_at__gt=until - WRAP_UP_WINDOW,
        )
        .exclude(**done)
        .select_related("meeting")
    )


def record_follow_ups(now: dt.datetime) -> tuple[int, int]:
    """Reflection invitations for everyone who attended, a kind note for
    those who said they'd come and didn't. Counted from the room's actual
    end, whenever "end" was pressed, and recorded once."""
    delay = policy("REFLECTION_DELAY_MINUTES", 120)
    invited = missed = 0
    for room in _ended_rooms(now, delay, "invited_at"):
        assert room.ended_at is not None
        due_at = room.ended_at + dt.timedelta(minutes=delay)
        meeting = room.meeting
        attended = dict(
            Attendance.objects.filter(room=room).values_list(
                "user_id", "user__timezone"
            )
        )
        absent: dict[int, str] = {}
        if options_for([meeting.group_id])[meeting.group_id].missed_follow_up:
            absent = dict(
                RSVP.objects.filter(
                    meeting=meeting, status=RSVP.Status.GOING, takes_seat=True
                )
                .exclude(user_id__in=attended)
                .values_list("user_id", "user__timezone")
            )
        prefs = preferences_for([*attended, *absent])
        with transaction.atomic():
            wrap, _ = WrapUp.objects.select_for_update().get_or_create(meeting=meeting)
            if wrap.invited_at is not None:
                continue
            invited += _insert(
                _rows(meeting, attended, Kind.REFLECTION, due_at, now, prefs)
            )
            missed += _insert(_rows(meeting, absent, Kind.MISSED, due_at, now, prefs))
            wrap.invited_at = now
            wrap.save(update_fields=["invited_at"])
    return invited, missed


def record_summaries(now: dt.datetime) -> int:
    delay = policy("SUMMARY_DELAY_MINUTES", 24 * 60)
    total = 0
    for room in _ended_rooms(now, delay, "summarised_at"):
        assert room.ended_at is not None
        meeting = room.meeting
        leads = dict(
            Membership.objects.filter(
                group_id=meeting.group_id, role__in=FACILITATING_ROLES
            ).values_list("user_id", "user__timezone")
        )
        due_at = room.ended_at + dt.timedelta(minutes=delay)
        prefs = preferences_for(leads)
        with transaction.atomic():
            wrap, _ = WrapUp.objects.select_for_update().get_or_create(meeting=meeting)
            if wrap.summarised_at is not None:
                continue
            total += _insert(_rows(meeting, leads, Kind.SUMMARY, due_at, now, prefs))
            wrap.summarised_at = now
            wrap.save(update_fields=["summarised_at"])
    return total


def _rows(
    meeting: Meeting,
    people: dict[int, str],
    kind: str,
    due_at: dt.datetime,
    now: dt.datetime,
    prefs: dict[int, MemberPreferences],
) -> list[Delivery]:
    return [
        Delivery(
            meeting=meeting,
            user_id=user_id,
            kind=kind,
            due_at=due_at,
            send_after=_send_after(due_at, now, prefs.get(user_id), zone),
        )
        for user_id, zone in people.items()
    ]


# --- 4. Dispatch -------------------------------------------------------------
def dispatch_due(now: dt.datetime) -> list[int]:
    """Hand due deliveries to the worker, by id. A delivery handed over but
    not finished (a killed worker, a lost broker message) is handed over
    again after REDISPATCH_SECONDS; the send itself claims the row, so a
    second copy does nothing."""
    redispatch = now - dt.timedelta(seconds=policy("REDISPATCH_SECONDS", 300))
    lease = now - dt.timedelta(seconds=policy("SEND_LEASE_SECONDS", 600))
    not_recent = Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=redispatch)
    due = Delivery.objects.filter(
        (
            Q(state=State.PENDING, send_after__lte=now)
            | Q(state=State.SENDING, claimed_at__lt=lease)
        )
        & not_recent
    ).order_by("send_after", "pk")
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:DISPATCH_LIMIT])
        Delivery.objects.filter(pk__in=ids).update(dispatched_at=now)
    return ids


def enqueue(ids: Iterable[int]) -> None:
    """Hand ids to the workers in batches (SEND_BATCH_SIZE, default 50):
    each task claims its batch and sends it over one mail connection."""
    from reminders import tasks

    from .deliver import batch_size

    ids, size = list(ids), batch_size()
    for start in range(0, len(ids), size):
        tasks.send_batch.delay(ids[start : start + size])


def run_sweep(now: dt.datetime | None = None, *, send: bool = True) -> SweepReport:
    """One pass. Runs outside a transaction so each step commits on its own
    and the worker sees the rows before it is handed their ids."""
    now = now or timezone.now()
    report = SweepReport()
    report.updates = record_changes(now)
    report.reminders = record_due_reminders(now)
    report.follow_ups, missed = record_follow_ups(now)
    report.follow_ups += missed
    report.summaries = record_summaries(now)
    if send:
        ids = dispatch_due(now)
        report.dispatched = len(ids)
        enqueue(ids)
    if any(report.as_dict().values()):
        log.info("sweep %s", " ".join(f"{k}={v}" for k, v in report.as_dict().items()))
    return report


__all__ = ["Family", "SweepReport", "dispatch_due", "run_sweep"]
