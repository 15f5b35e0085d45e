"""Scheduling through the services: series, edits, cancellations, RSVPs."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from groups import services
from groups.models import RSVP, Meeting, MeetingSeries
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

BERLIN = ZoneInfo("Europe/Berlin")
pytestmark = pytest.mark.django_db


@pytest.fixture
def march():
    with time_machine.travel(dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


def _series(group, facilitator, **overrides):
    fields = {
        "title": "Tuesday circle",
        "frequency": "weekly",
        "weekday": 1,
        "local_time": dt.time(19, 0),
        "starts_on": dt.date(2026, 3, 10),
        "ends_on": dt.date(2026, 4, 14),
        "duration_minutes": 60,
    }
    fields.update(overrides)
    return services.create_series(group=group, by=facilitator, **fields)


def test_series_occurrences_keep_berlin_19_00_across_spring_forward(
    group, facilitator, march
):
    series, notes = _series(group, facilitator)
    starts = list(series.meetings.values_list("starts_at", flat=True))
    assert len(starts) == 6
    assert {s.astimezone(BERLIN).strftime("%H:%M") for s in starts} == {"19:00"}
    assert [s.hour for s in starts] == [18, 18, 18, 17, 17, 17]
    assert notes == []


def test_extending_a_series_twice_adds_nothing(group, facilitator, march):
    series, _ = _series(group, facilitator)
    before = series.meetings.count()
    services.extend_series(series)
    services.extend_all_series()
    assert series.meetings.count() == before


def test_one_off_in_the_spring_gap_is_moved_and_the_form_is_told(
    group, facilitator, march
):
    meeting, note = services.schedule_meeting(
        group=group,
        by=facilitator,
        day=dt.date(2026, 3, 29),
        at=dt.time(2, 30),
        title="Early circle",
    )
    assert meeting.starts_at.astimezone(BERLIN).strftime("%H:%M %Z") == "03:30 CEST"
    assert "does not exist" in note


def test_one_off_in_the_autumn_overlap_takes_the_first(group, facilitator):
    with time_machine.travel(dt.datetime(2026, 10, 1, tzinfo=dt.UTC), tick=False):
        meeting, note = services.schedule_meeting(
            group=group,
            by=facilitator,
            day=dt.date(2026, 10, 25),
            at=dt.time(2, 30),
            title="Night owls",
        )
    assert meeting.starts_at == dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)
    assert "happens twice" in note


def test_scheduling_in_the_past_is_refused(group, facilitator, march):
    with pytest.raises(ValidationError, match="future"):
        services.schedule_meeting(
            group=group,
            by=facilitator,
            day=dt.date(2026, 2, 1),
            at=dt.time(19, 0),
            title="Too late",
        )
    assert not Meeting.objects.exists()


def test_members_and_strangers_cannot_schedule(group, member, stranger, march):
    for person in (member, stranger):
        with pytest.raises(PermissionDenied):
            services.schedule_meeting(
                group=group,
                by=person,
                day=dt.date(2026, 3, 20),
                at=dt.time(19, 0),
                title="Not mine to plan",
            )


def test_cofacilitator_can_schedule(group, cofacilitator, march):
    meeting, _ = services.schedule_meeting(
        group=group,
        by=cofacilitator,
        day=dt.date(2026, 3, 20),
        at=dt.time(19, 0),
        title="Co-run",
    )
    assert meeting.group == group


def test_editing_one_occurrence_detaches_it_from_series_edits(
    group, facilitator, march
):
    series, _ = _series(group, facilitator)
    first = series.meetings.order_by("starts_at").first()
    services.edit_meeting(
        meeting=first,
        by=facilitator,
        day=first.occurrence_date,
        at=dt.time(20, 0),
        title="Moved one",
    )
    first.refresh_from_db()
    assert first.detached
    assert first.sequence == 1
    services.edit_series(series=series, by=facilitator, local_time=dt.time(18, 0))
    first.refresh_from_db()
    assert first.starts_at.astimezone(BERLIN).hour == 20
    others = series.meetings.exclude(pk=first.pk)
    assert {m.starts_at.astimezone(BERLIN).hour for m in others} == {18}


def test_changing_the_series_weekday_cancels_answered_dates_and_drops_the_rest(
    group, facilitator, member, march
):
    series, _ = _series(group, facilitator)
    answered = series.meetings.order_by("starts_at")[1]
    services.respond(meeting=answered, user=member, going=True)
    services.edit_series(series=series, by=facilitator, weekday=2)
    answered.refresh_from_db()
    assert answered.status == Meeting.Status.CANCELLED
    scheduled = series.meetings.filter(status=Meeting.Status.SCHEDULED)
    assert scheduled.count() == 5  # Wednesdays 11 March to 8 April
    assert {m.starts_at.astimezone(BERLIN).weekday() for m in scheduled} == {2}


def test_monthly_series_requires_week_of_month(group, facilitator, march):
    with pytest.raises(ValidationError):
        _series(group, facilitator, frequency="monthly", week_of_month=None)
    assert not MeetingSeries.objects.exists()


def test_cancelling_a_session(group, facilitator, member):
    meeting = MeetingFactory(group=group)
    with pytest.raises(PermissionDenied):
        services.cancel_meeting(meeting=meeting, by=member)
    services.cancel_meeting(meeting=meeting, by=facilitator)
    meeting.refresh_from_db()
    assert meeting.is_cancelled
    with pytest.raises(ValidationError):
        services.respond(meeting=meeting, user=member, going=True)


def test_waitlist_fills_in_order_and_promotes_automatically(
    group, facilitator, mailoutbox, django_capture_on_commit_callbacks
):
    meeting = MeetingFactory(group=group, capacity=2)
    people = [MembershipFactory(group=group).user for _ in range(4)]
    answers = [services.respond(meeting=meeting, user=p, going=True) for p in people]
    assert [a.status for a in answers] == ["going", "going", "waitlisted", "waitlisted"]
    # Facilitators never wait and never take a seat.
    mine = services.respond(meeting=meeting, user=facilitator, going=True)
    assert mine.status == "going" and not mine.takes_seat
    with django_capture_on_commit_callbacks(execute=True):
        services.respond(meeting=meeting, user=people[0], going=False)
    statuses = dict(RSVP.objects.filter(meeting=meeting).values_list("user", "status"))
    assert statuses[people[2].pk] == "going"
    assert statuses[people[3].pk] == "waitlisted"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [people[2].email]
    assert "seat opened up" in mailoutbox[0].subject


def test_raising_capacity_promotes_the_waitlist(group, facilitator):
    meeting = MeetingFactory(group=group, capacity=1)
    first, second = (MembershipFactory(group=group).user for _ in range(2))
    services.respond(meeting=meeting, user=first, going=True)
    assert (
        services.respond(meeting=meeting, user=second, going=True).status
        == "waitlisted"
    )
    local = meeting.local_start
    services.edit_meeting(
        meeting=meeting,
        by=facilitator,
        day=local.date(),
        at=local.time(),
        title=meeting.title,
        capacity=2,
    )
    assert RSVP.objects.get(meeting=meeting, user=second).status == "going"


def test_only_members_can_rsvp(group, stranger):
    meeting = MeetingFactory(group=group)
    with pytest.raises(PermissionDenied):
        services.respond(meeting=meeting, user=stranger, going=True)
    assert not RSVP.objects.exists()


def test_leaving_the_group_frees_future_seats(group, member):
    meeting = MeetingFactory(group=group, capacity=1)
    waiting = MembershipFactory(group=group).user
    services.respond(meeting=meeting, user=member, going=True)
    services.respond(meeting=meeting, user=waiting, going=True)
    services.leave_group(group=group, user=member)
    assert not RSVP.objects.filter(user=member).exists()
    assert RSVP.objects.get(user=waiting).status == "going"


def test_answering_twice_keeps_one_row(group, member):
    meeting = MeetingFactory(group=group)
    services.respond(meeting=meeting, user=member, going=True)
    services.respond(meeting=meeting, user=member, going=True)
    services.respond(meeting=meeting, user=member, going=False)
    assert RSVP.objects.filter(meeting=meeting, user=member).count() == 1
    assert RSVP.objects.get(meeting=meeting, user=member).status == "not_going"


def test_stranger_factory_is_not_a_member(group):
    assert group.membership_of(UserFactory()) is None
