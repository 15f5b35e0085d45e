"""Calendar files: valid iCalendar with VTIMEZONE, and the private feed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.test import Client

from groups import ics, services
from tests.factories import MeetingFactory, MembershipFactory, SupportGroupFactory

pytestmark = pytest.mark.django_db


def test_session_ics_carries_the_local_time_and_a_vtimezone(group, member) -> None:
    start = dt.datetime(2027, 1, 12, 18, 0, tzinfo=dt.UTC)  # 19:00 in Berlin
    meeting = MeetingFactory(group=group, starts_at=start, title="Evening circle")
    response = Client().get(f"/sessions/{meeting.pk}/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    cal = icalendar.Calendar.from_ical(response.content)
    zones = list(cal.walk("VTIMEZONE"))
    assert [str(z["TZID"]) for z in zones] == ["Europe/Berlin"]
    (event,) = cal.walk("VEVENT")
    dtstart = event.decoded("DTSTART")
    assert dtstart == start
    assert dtstart.astimezone(ZoneInfo("Europe/Berlin")).hour == 19
    assert str(event["SUMMARY"]).startswith("Evening circle")
    assert str(event["UID"]) == meeting.uid
    assert event.decoded("DTEND") - dtstart == dt.timedelta(minutes=60)


def test_cancelled_session_is_marked_cancelled(group, facilitator) -> None:
    meeting = MeetingFactory(group=group)
    services.cancel_meeting(meeting=meeting, by=facilitator)
    cal = icalendar.Calendar.from_ical(
        Client().get(f"/sessions/{meeting.pk}/calendar.ics").content
    )
    (event,) = cal.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1


def test_feed_lists_only_the_members_groups_and_revokes(member, group) -> None:
    mine = MeetingFactory(group=group, title="Mine")
    MeetingFactory(group=SupportGroupFactory(), title="Someone else's")
    token = ics.feed_token(member)
    client = Client()  # a calendar app: no cookie
    response = client.get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    assert [str(e["UID"]) for e in events] == [mine.uid]

    login = Client()
    login.force_login(member)
    assert login.post("/me/calendar/").status_code == 302
    assert client.get(f"/calendar/{token}.ics").status_code == 404
    member.refresh_from_db()
    assert client.get(f"/calendar/{ics.feed_token(member)}.ics").status_code == 200


@pytest.mark.parametrize(
    "token", ["", "1-0-", "x-y-z", "1-0-" + "0" * 40, "99999-0-abc", "1-0-" + "a" * 500]
)
def test_forged_feed_tokens_are_not_found(member, token: str) -> None:
    assert Client().get(f"/calendar/{token}.ics").status_code == 404


def test_feed_token_of_one_member_cannot_be_bent_to_another(group) -> None:
    first = MembershipFactory(group=group).user
    second = MembershipFactory(group=group).user
    _pk, generation, mac = ics.feed_token(first).split("-", 2)
    forged = f"{second.pk}-{generation}-{mac}"
    assert Client().get(f"/calendar/{forged}.ics").status_code == 404


def test_times_are_shown_in_the_viewers_zone(group) -> None:
    start = dt.datetime(2027, 1, 12, 18, 0, tzinfo=dt.UTC)
    meeting = MeetingFactory(group=group, starts_at=start)
    expectations = {
        "America/New_York": "Tuesday 12 January 2027, 13:00 EST",
        "Asia/Kolkata": "Tuesday 12 January 2027, 23:30 IST",
        "Australia/Lord_Howe": "Wednesday 13 January 2027, 05:00",
    }
    for zone, text in expectations.items():
        viewer = MembershipFactory(group=group, user__timezone=zone).user
        client = Client()
        client.force_login(viewer)
        html = client.get(f"/sessions/{meeting.pk}/").content.decode()
        assert text in html, zone
        # ...and the group's own wall-clock time, in the group's zone.
        assert "For the group that is Tuesday 19:00 CET (Europe/Berlin)" in html
