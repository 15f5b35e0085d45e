"""Fuzzing with Hypothesis: arbitrary input never breaks Hearth.

Views get arbitrary query strings and form posts from the role that may use
them: never a 500, and a refused submission stores nothing. The display-name
validator only ever refuses with a ValidationError and never lets through a
name that hides text or carries contact details. The pure scheduling rules
round-trip local times across every zone and DST change.

Each example of a view test runs in a savepoint that is rolled back, so the
examples stay independent while sharing the function's fixtures.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group as AuthGroup
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.forms.models import model_to_dict
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, assume, given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import User
from accounts.validators import clean_display_name, validate_display_name
from groups.forms import InvitationForm
from groups.models import (
    Invitation,
    JoinRequest,
    Meeting,
    MeetingSeries,
    Membership,
    SupportGroup,
    Topic,
    Visibility,
)
from groups.schedule import resolve_local, series_dates
from tests.factories import SupportGroupFactory

pytestmark = pytest.mark.django_db

FUZZ = hypothesis_settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PURE = hypothesis_settings(max_examples=100, deadline=None)

# --- strategies --------------------------------------------------------------

# Values that have broken form handling somewhere before: empties, NUL,
# numbers past every limit, odd digits, boundary dates, bidi overrides,
# invisible letters, markup and SQL.
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "0",
    "-1",
    "1",
    "2",
    "15",
    "240",
    "241",
    "500",
    "501",
    "32768",
    "9" * 30,
    "1e309",
    "NaN",
    "inf",
    "1_0",
    "\uff15",  # fullwidth 5
    "٣",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "12/31/9999",
    "00:00",
    "23:59",
    "24:00",
    "\u202eevil",
    "\u3164",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00",
    "a" * 3000,
]
any_text = st.text(st.characters(codec="utf-8"), max_size=120)
# Printable text: what a person might type (may still be all spaces).
typed = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))


def typed_text(min_size: int = 1, max_size: int = 80) -> st.SearchStrategy[str]:
    return st.text(typed, min_size=min_size, max_size=max_size)


def number(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(str)


def near_dates(before: int = 0, after: int = 400) -> st.SearchStrategy[str]:
    today = dt.date.today()
    return st.dates(
        min_value=today - dt.timedelta(days=before),
        max_value=today + dt.timedelta(days=after),
    ).map(dt.date.isoformat)


def any_date() -> st.SearchStrategy[str]:
    return st.one_of(near_dates(30), st.dates().map(dt.date.isoformat))


wall_times = st.times().map(lambda t: t.strftime("%H:%M"))


@st.composite
def submissions(
    draw: st.DrawFn, valid: dict[str, st.SearchStrategy[str]]
) -> dict[str, str]:
    """A plausible submission with some fields replaced by arbitrary or nasty
    values, or dropped. Shrinks towards the plausible one."""
    data = {name: draw(strategy) for name, strategy in valid.items()}
    broken = draw(st.lists(st.sampled_from(sorted(valid)), unique=True))
    for name in broken:
        value = draw(st.one_of(st.sampled_from(NASTY), any_text, st.none()))
        if value is None:
            del data[name]
        else:
            data[name] = value
    return data


# --- helpers -----------------------------------------------------------------


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def counts(*model_classes: type[models.Model]) -> tuple[int, ...]:
    return tuple(m._default_manager.count() for m in model_classes)


def assert_refused(response: HttpResponse) -> None:
    """A re-rendered form that says what is wrong. (A POST with no fields at
    all is treated like a GET by the `request.POST or None` idiom: the form
    is shown afresh.)"""
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors or not form.is_bound, "the form was re-shown without an error"


def row(instance: models.Model) -> dict[str, Any]:
    instance.refresh_from_db()
    return model_to_dict(instance)


# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties): characters
# that render as nothing, bidi controls included.
IGNORABLE = [
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
]


def invisible(ch: str) -> bool:
    code = ord(ch)
    if any(low <= code <= high for low, high in IGNORABLE):
        return True
    category = unicodedata.category(ch)
    return category in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp") or (
        category == "Zs" and ch != " "
    )


COMMON_DOMAIN = re.compile(r"\b[a-z0-9-]+\.(com|org|net)\b", re.IGNORECASE)


def unsafe_parts(name: str) -> list[str]:
    """What a stored display name must never contain, checked independently
    of accounts.validators."""
    found = []
    if "@" in name:
        found.append("email")
    if "://" in name or "www." in name.lower() or COMMON_DOMAIN.search(name):
        found.append("url")
    if sum(ch.isdecimal() for ch in name) >= 6:
        found.append("phone")
    if any(invisible(ch) for ch in name):
        found.append("invisible")
    if name != name.strip() or "  " in name:
        found.append("untrimmed")
    return found


# --- people and groups ---------------------------------------------------------


@dataclass
class World:
    group: SupportGroup
    lead: Client
    member: Client
    stranger: Client
    member_user: User
    stranger_user: User


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(
    group: SupportGroup, facilitator: User, member: User, stranger: User
) -> World:
    # Facilitators may also create groups.
    AuthGroup.objects.get(name="Facilitators").user_set.add(facilitator)
    return World(
        group=group,
        lead=logged_in(facilitator),
        member=logged_in(member),
        stranger=logged_in(stranger),
        member_user=member,
        stranger_user=stranger,
    )


# --- the directory ---------------------------------------------------------------

query_values = st.one_of(st.none(), st.sampled_from(NASTY), any_text)
page_values = st.one_of(
    st.none(),
    st.sampled_from(NASTY),
    st.integers(-(10**30), 10**30).map(str),
    st.just("9" * 5000),
    any_text,
)


@FUZZ
@given(
    q=query_values,
    topic=st.one_of(query_values, st.sampled_from(Topic.values)),
    page=page_values,
    hx=st.booleans(),
)
def test_directory_answers_any_query_string(
    client: Client,
    group: SupportGroup,
    q: str | None,
    topic: str | None,
    page: str | None,
    hx: bool,
) -> None:
    params = {k: v for k, v in {"q": q, "topic": topic, "page": page}.items() if v}
    headers = {"HX-Request": "true"} if hx else {}
    response = client.get(reverse("groups:directory"), params, headers=headers)
    assert response.status_code == 200
    body = response.content.decode()
    # htmx gets the results fragment only; a browser gets the whole page.
    assert ("<html" in body) is not hx
    assert "<script>alert(1)</script>" not in body


@FUZZ
@given(name=typed_text(3, 80), data=st.data())
def test_directory_finds_a_group_by_any_piece_of_its_name(
    client: Client, name: str, data: st.DataObject
) -> None:
    assume(len(name.strip()) >= 1)
    start = data.draw(st.integers(0, len(name) - 1), label="start")
    end = data.draw(st.integers(start + 1, len(name)), label="end")
    piece = name[start:end].strip()
    assume(piece)
    with rolled_back():
        wanted = SupportGroupFactory(name=name)
        SupportGroupFactory(name="Zzz unrelated", description="nothing")
        response = client.get(reverse("groups:directory"), {"q": piece})
        assert response.status_code == 200
        listed = list(response.context["page"].object_list)
        assert wanted in listed


# --- forms, posted by the role that may use them ---------------------------------

GROUP_FIELDS = {
    "name": typed_text(3, 80),
    "description": typed_text(1, 300),
    "topic": st.sampled_from(Topic.values),
    "guidelines": typed_text(1, 300),
    "capacity": number(2, 500),
    "visibility": st.sampled_from(Visibility.values),
    "region": st.sampled_from(["", "DE", "CA", "IN"]),
    "timezone": st.sampled_from(
        ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]
    ),
}


def assert_group_is_sound(group: SupportGroup) -> None:
    assert 3 <= len(group.name) <= 80
    assert group.name == " ".join(group.name.split())
    assert 2 <= group.capacity <= 500
    assert group.topic in Topic.values
    assert group.visibility in Visibility.values
    zoneinfo.ZoneInfo(group.timezone)
    for text in (group.name, group.description, group.guidelines):
        assert "\x00" not in text


@FUZZ
@given(data=submissions(GROUP_FIELDS))
def test_group_form_creates_a_whole_group_or_nothing(
    world: World, data: dict[str, str]
) -> None:
    with rolled_back():
        before = counts(SupportGroup, Membership)
        response = world.lead.post(reverse("groups:create"), data)
        after = counts(SupportGroup, Membership)
        if response.status_code == 302:
            assert after == (before[0] + 1, before[1] + 1)
            created = SupportGroup.objects.latest("pk")
            assert_group_is_sound(created)
            assert created.memberships.get().role == "facilitator"
        else:
            assert_refused(response)
            assert after == before


@FUZZ
@given(data=submissions(GROUP_FIELDS))
def test_group_settings_form_saves_all_or_nothing(
    world: World, data: dict[str, str]
) -> None:
    with rolled_back():
        before = row(world.group)
        response = world.lead.post(
            reverse("groups:edit", args=[world.group.slug]), data
        )
        if response.status_code == 302:
            world.group.refresh_from_db()
            assert_group_is_sound(world.group)
            assert world.group.name == " ".join(data["name"].split())
        else:
            assert_refused(response)
            assert row(world.group) == before


MEETING_FIELDS = {
    "title": typed_text(1, 120),
    "description": typed_text(0, 300),
    "day": near_dates(2),
    "at": wall_times,
    "duration_minutes": number(15, 240),
    "capacity": st.one_of(st.just(""), number(1, 500)),
}


@FUZZ
@given(data=submissions({**MEETING_FIELDS, "day": any_date()}))
def test_session_form_schedules_one_future_session_or_nothing(
    world: World, data: dict[str, str]
) -> None:
    url = reverse("groups:new_meeting", args=[world.group.slug])
    with rolled_back():
        before = counts(Meeting)
        response = world.lead.post(url, data)
        after = counts(Meeting)
        if response.status_code == 302:
            assert after == (before[0] + 1,)
            meeting = Meeting.objects.latest("pk")
            assert meeting.starts_at > timezone.now()
            assert meeting.ends_at - meeting.starts_at == dt.timedelta(
                minutes=meeting.duration_minutes
            )
            assert 15 <= meeting.duration_minutes <= 240
            assert meeting.timezone == world.group.timezone
        else:
            assert_refused(response)
            assert after == before


SERIES_FIELDS = {
    "title": typed_text(1, 120),
    "description": typed_text(0, 300),
    "frequency": st.sampled_from(["weekly", "fortnightly", "monthly"]),
    "weekday": number(0, 6),
    "week_of_month": st.sampled_from(["", "1", "2", "3", "4", "-1"]),
    "local_time": wall_times,
    "starts_on": near_dates(30, 200),
    "ends_on": st.one_of(st.just(""), near_dates(30, 300)),
    "duration_minutes": number(15, 240),
    "capacity": st.one_of(st.just(""), number(1, 500)),
}


@FUZZ
@given(data=submissions({**SERIES_FIELDS, "starts_on": any_date()}))
def test_series_form_stores_a_series_with_sessions_or_nothing(
    world: World, data: dict[str, str]
) -> None:
    url = reverse("groups:new_series", args=[world.group.slug])
    with rolled_back():
        before = counts(MeetingSeries, Meeting)
        response = world.lead.post(url, data)
        after = counts(MeetingSeries, Meeting)
        if response.status_code == 302:
            assert after[0] == before[0] + 1
            assert after[1] > before[1]
            series = MeetingSeries.objects.latest("pk")
            for meeting in series.meetings.all():
                assert meeting.starts_at > timezone.now()
                assert meeting.local_start.date().weekday() == series.weekday
        else:
            assert_refused(response)
            assert after == before


@FUZZ
@given(data=submissions({"message": typed_text(0, 500)}))
def test_join_request_form_stores_one_request_or_nothing(
    world: World, data: dict[str, str]
) -> None:
    url = reverse("groups:join", args=[world.group.slug])
    with rolled_back():
        before = counts(JoinRequest)
        response = world.stranger.post(url, data)
        after = counts(JoinRequest)
        if response.status_code == 302:
            assert after == (before[0] + 1,)
            stored = JoinRequest.objects.get(user=world.stranger_user)
            assert stored.message == data.get("message", "").strip()
            assert len(stored.message) <= 500
        else:
            assert_refused(response)
            assert after == before


INVITATION_FIELDS = {
    "label": typed_text(0, 80),
    "days": number(1, 90),
    "max_uses": st.one_of(st.just(""), number(1, 500)),
}


@FUZZ
@given(data=submissions(INVITATION_FIELDS))
def test_invitation_form_creates_one_link_or_nothing(
    world: World, data: dict[str, str]
) -> None:
    url = reverse("groups:invite", args=[world.group.slug])
    form = InvitationForm(data)
    valid = form.is_valid()
    with rolled_back():
        before = counts(Invitation)
        started = timezone.now()
        response = world.lead.post(url, data)
        # By design the members page answers both ways, with a message.
        assert response.status_code == 302
        after = counts(Invitation)
        if not valid:
            assert after == before
            return
        assert after == (before[0] + 1,)
        link = Invitation.objects.latest("pk")
        days = form.cleaned_data["days"]
        assert 1 <= days <= 90
        assert link.expires_at - started >= dt.timedelta(days=days)
        assert link.expires_at - started < dt.timedelta(days=days, minutes=1)
        assert link.max_uses == form.cleaned_data["max_uses"]
        assert "\x00" not in link.label and len(link.label) <= 80


NAME_PIECES = [
    "Quiet",
    "Fern",
    " ",
    ".",
    "-",
    "'",
    "@",
    "example",
    ".com",
    "www.",
    "http://",
    "1",
    "23",
    "456",
    "\u200b",
    "\u202e",
    "\u2066",
    "\u061c",
    "\ufeff",
    "\u00a0",
    "\u3164",
    "\u115f",
    "\uffa0",
    "\u034f",
    "\t",
    "\x00",
    "\uff41\uff44\uff4d\uff49\uff4e",  # fullwidth "admin"
    "Ad",
    "min",
    "ǅ",
    "ß",
    "İ",
    "٣",
    "\U0001d7d7",  # mathematical bold 9
]
display_names = st.one_of(
    st.lists(st.sampled_from(NAME_PIECES), max_size=8).map("".join),
    st.text(
        st.one_of(
            st.characters(codec="utf-8"),
            st.sampled_from([piece for piece in NAME_PIECES if len(piece) == 1]),
        ),
        max_size=50,
    ),
)


@FUZZ
@given(
    data=submissions(
        {
            "display_name": display_names,
            "timezone": st.sampled_from(["UTC", "Asia/Kolkata", "America/St_Johns"]),
            "country": st.sampled_from(["", "DE", "IN"]),
            "email_reminders": st.sampled_from(["on", ""]),
            "email_reflections": st.sampled_from(["on", ""]),
            "email_group_updates": st.sampled_from(["on", ""]),
        }
    )
)
def test_profile_form_saves_a_safe_profile_or_nothing(
    world: World, data: dict[str, str]
) -> None:
    user = world.member_user
    with rolled_back():
        before = row(user)
        response = world.member.post(reverse("profile"), data)
        if response.status_code == 302:
            user.refresh_from_db()
            assert unsafe_parts(user.display_name) == []
            assert 2 <= len(user.display_name) <= 40
            zoneinfo.ZoneInfo(user.timezone)
        else:
            assert_refused(response)
            assert row(user) == before


@FUZZ
@given(data=submissions({"display_name": display_names}))
def test_name_in_group_form_saves_a_safe_name_or_nothing(
    world: World, data: dict[str, str]
) -> None:
    membership = Membership.objects.get(group=world.group, user=world.member_user)
    url = reverse("groups:my_name", args=[world.group.slug])
    with rolled_back():
        before = row(membership)
        response = world.member.post(url, data)
        if response.status_code == 302:
            membership.refresh_from_db()
            assert unsafe_parts(membership.display_name) == []
            assert len(membership.display_name) <= 40
        else:
            assert_refused(response)
            assert row(membership) == before


# --- the display-name validator --------------------------------------------------


@PURE
@given(value=display_names)
def test_display_name_validator_refuses_only_with_validation_error(
    value: str,
) -> None:
    try:
        validate_display_name(value)
    except ValidationError:
        return
    # Accepted: as every form stores it (cleaned), nothing unsafe remains.
    cleaned = clean_display_name(value)
    note(f"cleaned={cleaned!r}")
    assert unsafe_parts(cleaned) == []
    assert 2 <= len(cleaned) <= 40


# --- pure scheduling rules --------------------------------------------------------

ZONES = sorted(zoneinfo.available_timezones())
# A day's margin from the ends of the calendar; the ends themselves are a
# known bug (see the regression tests below).
SAFE_DATES = st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 30))


@PURE
@given(day=SAFE_DATES, at=st.times(), zone_name=st.sampled_from(ZONES))
def test_resolve_local_round_trips_or_moves_forward_by_the_gap(
    day: dt.date, at: dt.time, zone_name: str
) -> None:
    zone = zoneinfo.ZoneInfo(zone_name)
    wall = dt.datetime.combine(day, at)
    resolved = resolve_local(day, at, zone)
    assert resolved.at.utcoffset() == dt.timedelta(0)
    back = resolved.at.astimezone(zone).replace(tzinfo=None)
    # PEP 495: fold=0 and fold=1 differ exactly in a gap or an overlap.
    before = wall.replace(tzinfo=zone, fold=0).utcoffset()
    after = wall.replace(tzinfo=zone, fold=1).utcoffset()
    assert before is not None and after is not None
    if not resolved.note:
        assert before == after, "a DST change went unnoticed"
        assert back == wall
    elif after > before:
        # A gap: the wall time does not exist and moves on by the gap.
        assert "does not exist" in resolved.note
        assert back - wall == after - before
    else:
        # An overlap: the first of the two instants is used.
        assert "happens twice" in resolved.note
        assert back == wall
        assert resolved.at == wall.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)


@PURE
@given(
    frequency=st.sampled_from(["weekly", "fortnightly", "monthly"]),
    weekday=st.integers(0, 6),
    week_of_month=st.sampled_from([1, 2, 3, 4, -1]),
    starts_on=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)),
    span=st.integers(0, 800),
    ends_after=st.one_of(st.none(), st.integers(-30, 900)),
)
def test_series_dates_are_exactly_the_pattern_in_range(
    frequency: str,
    weekday: int,
    week_of_month: int,
    starts_on: dt.date,
    span: int,
    ends_after: int | None,
) -> None:
    until = starts_on + dt.timedelta(days=span)
    ends_on = None if ends_after is None else starts_on + dt.timedelta(ends_after)
    days = list(
        series_dates(
            frequency=frequency,
            weekday=weekday,
            week_of_month=week_of_month,
            starts_on=starts_on,
            until=until,
            ends_on=ends_on,
        )
    )
    last = min(until, ends_on) if ends_on else until
    assert days == sorted(set(days))
    assert all(starts_on <= day <= last and day.weekday() == weekday for day in days)
    # The pattern, computed the slow way: every matching day in range.
    in_range = [starts_on + dt.timedelta(n) for n in range((last - starts_on).days + 1)]
    matching = [day for day in in_range if day.weekday() == weekday]
    if frequency == "weekly":
        assert days == matching
    elif frequency == "fortnightly":
        assert days == matching[::2]
    elif week_of_month == -1:
        assert days == [d for d in matching if (d + dt.timedelta(7)).month != d.month]
    else:
        assert days == [d for d in matching if (d.day - 1) // 7 + 1 == week_of_month]


# --- regressions: bugs the fuzz tests found (now fixed) ----------------------


def test_regression_session_on_the_first_day_of_the_calendar_is_refused(
    world: World,
) -> None:
    data = {"title": "Circle", "day": "0001-01-01", "at": "00:00"}
    response = world.lead.post(
        reverse("groups:new_meeting", args=[world.group.slug]),
        {**data, "duration_minutes": "60"},
    )
    assert_refused(response)
    assert not Meeting.objects.exists()


def test_regression_session_at_the_end_of_the_calendar_is_refused(
    world: World,
) -> None:
    data = {"title": "Circle", "day": "9999-12-31", "at": "23:30"}
    response = world.lead.post(
        reverse("groups:new_meeting", args=[world.group.slug]),
        {**data, "duration_minutes": "240"},
    )
    assert_refused(response)
    assert not Meeting.objects.exists()


def test_regression_series_starting_on_the_first_day_of_the_calendar_is_refused(
    world: World,
) -> None:
    data = {
        "title": "Circle",
        "frequency": "weekly",
        "weekday": "0",
        "local_time": "00:00",
        "starts_on": "0001-01-01",
        "duration_minutes": "60",
    }
    response = world.lead.post(
        reverse("groups:new_series", args=[world.group.slug]), data
    )
    assert_refused(response)
    assert not MeetingSeries.objects.exists()


@pytest.mark.parametrize(
    "name",
    ["Quiet\u3164Fern", "\u3164\u3164", "Quiet\u1160", "\u115f\uffa0Kit"],
)
def test_regression_display_name_with_invisible_letters_is_refused(
    name: str,
) -> None:
    with pytest.raises(ValidationError):
        validate_display_name(name)


def test_regression_display_name_in_devanagari_is_accepted() -> None:
    validate_display_name("\u092a\u094d\u0930\u093f\u092f\u093e")
