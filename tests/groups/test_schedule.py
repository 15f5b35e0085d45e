"""DST and recurrence rules (catalogue S-01, S-02, S-03), no database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from groups.schedule import nth_weekday, resolve_local, series_dates

BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def test_ordinary_time_resolves_without_a_note() -> None:
    resolved = resolve_local(dt.date(2026, 6, 2), dt.time(19, 0), BERLIN)
    assert resolved.at == dt.datetime(2026, 6, 2, 17, 0, tzinfo=UTC)
    assert resolved.note == ""


def test_time_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    # 02:30 does not exist in Berlin on 29 March 2026 (clocks jump 02:00 → 03:00).
    resolved = resolve_local(dt.date(2026, 3, 29), dt.time(2, 30), BERLIN)
    assert resolved.at == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert resolved.at.astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"
    assert "does not exist" in resolved.note
    assert "03:30" in resolved.note


def test_time_in_the_autumn_overlap_takes_the_first_occurrence() -> None:
    # 02:30 happens twice in Berlin on 25 October 2026; the first is CEST.
    resolved = resolve_local(dt.date(2026, 10, 25), dt.time(2, 30), BERLIN)
    assert resolved.at == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert "happens twice" in resolved.note


def test_weekly_series_stays_at_local_time_across_spring_forward() -> None:
    days = list(
        series_dates(
            frequency="weekly",
            weekday=1,  # Tuesday
            starts_on=dt.date(2026, 3, 17),
            until=dt.date(2026, 4, 7),
        )
    )
    assert days == [
        dt.date(2026, 3, 17),
        dt.date(2026, 3, 24),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 7),
    ]
    instants = [resolve_local(d, dt.time(19, 0), BERLIN).at for d in days]
    assert [i.hour for i in instants] == [18, 18, 17, 17]
    assert {i.astimezone(BERLIN).hour for i in instants} == {19}


def test_weekly_series_stays_at_local_time_across_fall_back() -> None:
    instants = [
        resolve_local(d, dt.time(19, 0), BERLIN).at
        for d in series_dates(
            frequency="weekly",
            weekday=1,
            starts_on=dt.date(2026, 10, 20),
            until=dt.date(2026, 10, 27),
        )
    ]
    assert [i.hour for i in instants] == [17, 18]


def test_fortnightly_skips_a_week_and_starts_on_the_first_matching_day() -> None:
    days = list(
        series_dates(
            frequency="fortnightly",
            weekday=3,  # Thursday
            starts_on=dt.date(2026, 11, 23),  # a Monday
            until=dt.date(2026, 12, 31),
        )
    )
    assert days == [dt.date(2026, 11, 26), dt.date(2026, 12, 10), dt.date(2026, 12, 24)]


@pytest.mark.parametrize(
    ("nth", "expected"),
    [
        (1, dt.date(2026, 3, 1)),
        (2, dt.date(2026, 3, 8)),
        (4, dt.date(2026, 3, 22)),
        (-1, dt.date(2026, 3, 29)),
    ],
)
def test_nth_weekday_of_month(nth: int, expected: dt.date) -> None:
    assert nth_weekday(2026, 3, 6, nth) == expected  # Sundays of March 2026


def test_monthly_series_on_the_last_friday() -> None:
    days = list(
        series_dates(
            frequency="monthly",
            weekday=4,
            week_of_month=-1,
            starts_on=dt.date(2026, 1, 1),
            until=dt.date(2026, 4, 30),
        )
    )
    assert days == [
        dt.date(2026, 1, 30),
        dt.date(2026, 2, 27),
        dt.date(2026, 3, 27),
        dt.date(2026, 4, 24),
    ]


def test_series_respects_its_end_date_and_start_date() -> None:
    days = list(
        series_dates(
            frequency="monthly",
            weekday=0,
            week_of_month=1,
            starts_on=dt.date(2026, 2, 3),  # after February's first Monday
            ends_on=dt.date(2026, 4, 5),
            until=dt.date(2027, 1, 1),
        )
    )
    assert days == [dt.date(2026, 3, 2)]


def test_monthly_series_needs_a_week() -> None:
    with pytest.raises(ValueError, match="week_of_month"):
        list(
            series_dates(
                frequency="monthly",
                weekday=0,
                starts_on=dt.date(2026, 1, 1),
                until=dt.date(2026, 3, 1),
            )
        )


def test_lord_howe_half_hour_dst_is_resolved() -> None:
    # Lord Howe Island moves its clocks by 30 minutes; 02:15 on 4 Oct 2026 is
    # inside its gap (02:00 → 02:30).
    zone = ZoneInfo("Australia/Lord_Howe")
    resolved = resolve_local(dt.date(2026, 10, 4), dt.time(2, 15), zone)
    assert resolved.adjusted
    assert resolved.at.astimezone(zone).strftime("%H:%M") == "02:45"
