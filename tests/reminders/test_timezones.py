"""Reminders against a frozen clock: DST in the group's zone and in each
recipient's zone, edits, cancellations, departures, zone changes, quiet
hours (catalogue S-01..S-09, S-13)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from groups.models import Meeting, MeetingSeries
from groups.services.membership import leave_group
from groups.services.scheduling import (
    cancel_meeting,
    create_series,
    edit_series,
    schedule_meeting,
)
from reminders.models import (
    Delivery,
    GroupReminderOptions,
    Kind,
    MemberPreferences,
    State,
)
from reminders.services.compose import local_when

from .conftest import at, ics_of, sent_to, text_of

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(autouse=True)
def _long_horizon(settings: Any) -> None:
    settings.HEARTH = {**settings.HEARTH, "SERIES_HORIZON_DAYS": 300}


def _series(group: Any, by: Any) -> MeetingSeries:
    series, _ = create_series(
        group=group,
        by=by,
        title="Tuesday circle",
        frequency="weekly",
        weekday=1,
        local_time=dt.time(19, 0),
        starts_on=dt.date(2026, 3, 3),
        ends_on=dt.date(2026, 11, 10),
        duration_minutes=60,
    )
    return series


def _meeting_on(series: MeetingSeries, day: dt.date) -> Meeting:
    return series.meetings.get(occurrence_date=day)


def test_berlin_series_keeps_local_time_across_both_dst_changes(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    with time_machine.travel(at(2026, 3, 1, 12), tick=False):
        series = _series(group, people["facilitator"])
    # (occurrence, its UTC start): 18:00Z in winter time, 17:00Z in summer.
    cases = [
        (dt.date(2026, 3, 24), at(2026, 3, 24, 18)),
        (dt.date(2026, 3, 31), at(2026, 3, 31, 17)),
        (dt.date(2026, 4, 7), at(2026, 4, 7, 17)),
        (dt.date(2026, 10, 20), at(2026, 10, 20, 17)),
        (dt.date(2026, 10, 27), at(2026, 10, 27, 18)),
        (dt.date(2026, 11, 3), at(2026, 11, 3, 18)),
    ]
    for day, starts in cases:
        meeting = _meeting_on(series, day)
        assert meeting.starts_at == starts
        assert meeting.local_start.hour == 19
        mail.outbox.clear()
        # A minute before the 24-hour step nothing goes; at it, one each.
        with time_machine.travel(
            starts - dt.timedelta(hours=24, minutes=1), tick=False
        ):
            sweep()
        assert mail.outbox == []
        with time_machine.travel(starts - dt.timedelta(hours=24), tick=False):
            sweep()
            sweep()  # a second beat, or a re-run: nothing new
        assert len(mail.outbox) == 5, day
        for key in ("berlin", "new_york", "kolkata", "lord_howe"):
            person = people[key]
            (message,) = sent_to(person.email)
            zone = ZoneInfo(person.timezone)
            assert local_when(starts, zone) in text_of(message)
        delivery = Delivery.objects.get(meeting=meeting, user=people["berlin"])
        assert delivery.due_at == starts - dt.timedelta(hours=24)


def test_recipients_see_their_own_offsets_in_the_mismatched_weeks(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    """Weeks when the US and the EU, or Lord Howe, have changed and the
    others have not (S-05)."""
    with time_machine.travel(at(2026, 3, 1, 12), tick=False):
        series = _series(group, people["facilitator"])
    expected = {
        # US on summer time, Berlin not yet; Lord Howe still on +11.
        dt.date(2026, 3, 24): {
            "new_york": "14:00 (America/New_York, UTC-04:00)",
            "kolkata": "23:30 (Asia/Kolkata, UTC+05:30)",
            "lord_howe": "05:00 (Australia/Lord_Howe, UTC+11:00)",
            "berlin": "19:00 (Europe/Berlin, UTC+01:00)",
        },
        # Lord Howe's half-hour change (5 April).
        dt.date(2026, 4, 7): {
            "lord_howe": "03:30 (Australia/Lord_Howe, UTC+10:30)",
            "berlin": "19:00 (Europe/Berlin, UTC+02:00)",
        },
        # Berlin back on winter time, New York not until 1 November.
        dt.date(2026, 10, 27): {
            "new_york": "14:00 (America/New_York, UTC-04:00)",
            "kolkata": "23:30 (Asia/Kolkata, UTC+05:30)",
            "lord_howe": "05:00 (Australia/Lord_Howe, UTC+11:00)",
            "berlin": "19:00 (Europe/Berlin, UTC+01:00)",
        },
    }
    for day, lines in expected.items():
        meeting = _meeting_on(series, day)
        mail.outbox.clear()
        with time_machine.travel(meeting.starts_at - dt.timedelta(hours=1), tick=False):
            sweep()
        for key, line in lines.items():
            (message,) = sent_to(people[key].email)
            assert line in text_of(message), (day, key)


def test_session_in_the_spring_gap_is_reminded_at_its_real_time(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    with time_machine.travel(at(2026, 3, 20), tick=False):
        meeting, note = schedule_meeting(
            group=group,
            by=people["facilitator"],
            day=dt.date(2026, 3, 29),
            at=dt.time(2, 30),
            title="Night owls",
        )
    assert note  # the form warns
    assert meeting.starts_at == at(2026, 3, 29, 1, 30)  # 03:30 CEST
    with time_machine.travel(at(2026, 3, 29, 0, 30), tick=False):
        sweep()
    (message,) = sent_to(people["berlin"].email)
    assert "03:30 (Europe/Berlin, UTC+02:00)" in text_of(message)


def test_autumn_overlap_gets_exactly_one_reminder(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    GroupReminderOptions.objects.create(group=group, offsets_minutes=[60])
    with time_machine.travel(at(2026, 10, 20), tick=False):
        meeting, note = schedule_meeting(
            group=group,
            by=people["facilitator"],
            day=dt.date(2026, 10, 25),
            at=dt.time(2, 30),
            title="Night owls",
        )
    assert note
    assert meeting.starts_at == at(2026, 10, 25, 0, 30)  # the first 02:30
    # Sweep every five minutes through both 01:30s and both 02:30s.
    moment = at(2026, 10, 24, 22, 0)
    while moment <= at(2026, 10, 25, 2, 0):
        with time_machine.travel(moment, tick=False):
            sweep()
        moment += dt.timedelta(minutes=5)
    messages = sent_to(people["berlin"].email)
    assert len(messages) == 1
    assert "02:30 (Europe/Berlin, UTC+02:00)" in text_of(messages[0])
    assert len(mail.outbox) == 5


def test_24_hours_before_is_absolute_across_the_change(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    """S-04: Sunday 25 October 19:00 CET is 18:00Z; the 24-hour reminder
    goes at 18:00Z on Saturday (20:00 CEST local)."""
    with time_machine.travel(at(2026, 10, 20), tick=False):
        meeting, _ = schedule_meeting(
            group=group,
            by=people["facilitator"],
            day=dt.date(2026, 10, 25),
            at=dt.time(19, 0),
            title="Sunday circle",
        )
    assert meeting.starts_at == at(2026, 10, 25, 18)
    with time_machine.travel(at(2026, 10, 24, 17, 59), tick=False):
        sweep()
    assert mail.outbox == []
    with time_machine.travel(at(2026, 10, 24, 18, 0), tick=False):
        sweep()
    (message,) = sent_to(people["berlin"].email)
    assert "Sunday 25 October 2026, 19:00 (Europe/Berlin, UTC+01:00)" in text_of(
        message
    )


def test_member_changing_zone_gets_the_new_local_time_at_the_same_instant(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    with time_machine.travel(at(2026, 6, 1), tick=False):
        meeting, _ = schedule_meeting(
            group=group,
            by=people["facilitator"],
            day=dt.date(2026, 6, 10),
            at=dt.time(19, 0),
            title="Circle",
        )
    due = meeting.starts_at - dt.timedelta(hours=24)
    with time_machine.travel(due, tick=False):
        sweep(send=False)  # recorded, not yet sent
    member = people["new_york"]
    delivery = Delivery.objects.get(meeting=meeting, user=member, kind=Kind.REMINDER)
    member.timezone = "Asia/Tokyo"
    member.save()
    with time_machine.travel(due + dt.timedelta(seconds=30), tick=False):
        sweep()
    delivery.refresh_from_db()
    assert delivery.due_at == due
    assert delivery.state == State.SENT
    (message,) = sent_to(member.email)
    assert "Thursday 11 June 2026, 02:00 (Asia/Tokyo, UTC+09:00)" in text_of(message)


def test_edited_series_never_sends_the_old_reminders(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    """S-06: 19:00 → 20:00 with reminders pending."""
    with time_machine.travel(at(2026, 6, 1), tick=False):
        series = _series(group, people["facilitator"])
    meeting = _meeting_on(series, dt.date(2026, 6, 16))
    old_start = meeting.starts_at  # 17:00Z
    with time_machine.travel(old_start - dt.timedelta(hours=24), tick=False):
        sweep(send=False)
    old = list(Delivery.objects.filter(meeting=meeting, kind=Kind.REMINDER))
    assert len(old) == 5 and all(d.state == State.PENDING for d in old)
    with time_machine.travel(
        old_start - dt.timedelta(hours=23, minutes=50), tick=False
    ):
        edit_series(series=series, by=people["facilitator"], local_time=dt.time(20, 0))
        sweep()
    for delivery in old:
        delivery.refresh_from_db()
        assert delivery.state == State.CANCELLED
        assert delivery.reason == "moved"
    assert mail.outbox == []  # nobody had been told of the old time
    meeting.refresh_from_db()
    assert meeting.starts_at == old_start + dt.timedelta(hours=1)
    # The new 24-hour step, then the 1-hour step: one each, new time only.
    for moment in (
        meeting.starts_at - dt.timedelta(hours=24),
        meeting.starts_at - dt.timedelta(hours=1),
    ):
        with time_machine.travel(moment, tick=False):
            sweep()
            sweep()
    messages = sent_to(people["berlin"].email)
    assert len(messages) == 2
    for message in messages:
        assert "20:00 (Europe/Berlin" in text_of(message)
        assert "19:00" not in text_of(message)


def test_moved_after_a_reminder_sends_one_update_not_a_second_reminder(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    with time_machine.travel(at(2026, 6, 1), tick=False):
        series = _series(group, people["facilitator"])
    meeting = _meeting_on(series, dt.date(2026, 6, 16))
    with time_machine.travel(meeting.starts_at - dt.timedelta(hours=24), tick=False):
        sweep()
    assert len(mail.outbox) == 5
    mail.outbox.clear()
    with time_machine.travel(meeting.starts_at - dt.timedelta(hours=20), tick=False):
        edit_series(series=series, by=people["facilitator"], local_time=dt.time(20, 0))
        sweep()
        sweep()
    assert len(mail.outbox) == 5
    message = sent_to(people["kolkata"].email)[0]
    assert "Updated:" in message.subject, [m.subject for m in mail.outbox]
    method, _ = ics_of(message)
    assert method == "REQUEST"


def test_cancellation_sends_one_notice_and_no_reminder(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    """S-07: cancelled 30 minutes before the 1-hour reminder."""
    with time_machine.travel(at(2026, 6, 1), tick=False):
        meeting, _ = schedule_meeting(
            group=group,
            by=people["facilitator"],
            day=dt.date(2026, 6, 10),
            at=dt.time(19, 0),
            title="Circle",
        )
    with time_machine.travel(meeting.starts_at - dt.timedelta(hours=24), tick=False):
        sweep()
    mail.outbox.clear()
    with time_machine.travel(meeting.starts_at - dt.timedelta(minutes=90), tick=False):
        cancel_meeting(meeting=meeting, by=people["facilitator"])
        sweep()
        sweep()
    for moment in (
        meeting.starts_at - dt.timedelta(hours=1),
        meeting.starts_at - dt.timedelta(minutes=30),
    ):
        with time_machine.travel(moment, tick=False):
            sweep()
    assert len(mail.outbox) == 5
    assert all("Cancelled:" in m.subject for m in mail.outbox)
    method, _ = ics_of(sent_to(people["lord_howe"].email)[0])
    assert method == "CANCEL"
    assert not Delivery.objects.filter(
        meeting=meeting, kind=Kind.REMINDER, offset_minutes=60
    ).exists()


def test_member_who_leaves_gets_no_reminder(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    """S-08: the leaver's recorded reminder is skipped at send time."""
    with time_machine.travel(at(2026, 6, 1), tick=False):
        meeting, _ = schedule_meeting(
            group=group,
            by=people["facilitator"],
            day=dt.date(2026, 6, 10),
            at=dt.time(19, 0),
            title="Circle",
        )
    leaver = people["kolkata"]
    with time_machine.travel(meeting.starts_at - dt.timedelta(hours=1), tick=False):
        sweep(send=False)
        leave_group(group=group, user=leaver)
        sweep()
    assert sent_to(leaver.email) == []
    assert len(mail.outbox) == 4
    delivery = Delivery.objects.get(meeting=meeting, user=leaver)
    assert (delivery.state, delivery.reason) == (State.SKIPPED, "left-group")


def test_quiet_hours_defer_to_their_end_in_the_members_zone(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    """S-13: quiet 22:00-08:00; a reminder due 23:00 local waits until 08:00."""
    member = people["berlin"]
    MemberPreferences.objects.create(
        user=member, quiet_start=dt.time(22), quiet_end=dt.time(8)
    )
    with time_machine.travel(at(2026, 6, 1), tick=False):
        meeting, _ = schedule_meeting(
            group=group,
            by=people["facilitator"],
            day=dt.date(2026, 6, 11),
            at=dt.time(23, 0),
            title="Late circle",
        )
    due = meeting.starts_at - dt.timedelta(hours=24)  # 23:00 CEST on 10 June
    with time_machine.travel(due, tick=False):
        sweep()
    assert sent_to(member.email) == []
    assert len(mail.outbox) == 4
    delivery = Delivery.objects.get(meeting=meeting, user=member, offset_minutes=1440)
    assert delivery.send_after == at(2026, 6, 11, 6)  # 08:00 CEST
    with time_machine.travel(at(2026, 6, 11, 5, 59), tick=False):
        sweep()
    assert sent_to(member.email) == []
    with time_machine.travel(at(2026, 6, 11, 6, 0), tick=False):
        sweep()
    assert len(sent_to(member.email)) == 1


def test_quiet_hours_past_the_start_skip_the_reminder(
    group: Any, people: dict[str, Any], sweep: Any
) -> None:
    member = people["berlin"]
    MemberPreferences.objects.create(
        user=member, quiet_start=dt.time(22), quiet_end=dt.time(8)
    )
    GroupReminderOptions.objects.create(group=group, offsets_minutes=[60])
    with time_machine.travel(at(2026, 6, 1), tick=False):
        meeting, _ = schedule_meeting(
            group=group,
            by=people["facilitator"],
            day=dt.date(2026, 6, 11),
            at=dt.time(7, 0),
            title="Dawn circle",
        )
    with time_machine.travel(meeting.starts_at - dt.timedelta(hours=1), tick=False):
        sweep()
    with time_machine.travel(at(2026, 6, 11, 6, 0), tick=False):
        sweep()
    assert sent_to(member.email) == []
    delivery = Delivery.objects.get(meeting=meeting, user=member)
    assert delivery.state in (State.PENDING, State.SKIPPED)
