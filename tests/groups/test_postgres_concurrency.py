"""Races that only a real database with row locks can prove (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections

from groups import services
from groups.models import RSVP, JoinRequest, Membership
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment, each in its own thread/connection."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # collected and asserted on below
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_runs_on_postgresql() -> None:
    assert connection.vendor == "postgresql"


def test_simultaneous_rsvps_never_overbook(group) -> None:
    meeting = MeetingFactory(group=group, capacity=3)
    people = [MembershipFactory(group=group).user for _ in range(10)]
    results = _race(
        [
            lambda p=p: services.respond(meeting=meeting, user=p, going=True)
            for p in people
        ]
    )
    assert not [r for r in results if isinstance(r, Exception)]
    statuses = list(
        RSVP.objects.filter(meeting=meeting).values_list("status", flat=True)
    )
    assert statuses.count("going") == 3
    assert statuses.count("waitlisted") == 7


def test_simultaneous_cancellations_promote_each_waiting_person_once(group) -> None:
    meeting = MeetingFactory(group=group, capacity=3)
    going = [MembershipFactory(group=group).user for _ in range(3)]
    waiting = [MembershipFactory(group=group).user for _ in range(5)]
    for person in going + waiting:
        services.respond(meeting=meeting, user=person, going=True)
    _race(
        [
            lambda p=p: services.respond(meeting=meeting, user=p, going=False)
            for p in going
        ]
    )
    rows = dict(RSVP.objects.filter(meeting=meeting).values_list("user_id", "status"))
    assert [rows[p.pk] for p in waiting] == [
        "going",
        "going",
        "going",
        "waitlisted",
        "waitlisted",
    ]


def test_a_single_use_invitation_admits_exactly_one_of_many(group, facilitator) -> None:
    _, token = services.create_invitation(group=group, by=facilitator, max_uses=1)
    people = [UserFactory() for _ in range(8)]
    results = _race(
        [lambda p=p: services.accept_invitation(token=token, user=p) for p in people]
    )
    admitted = [r for r in results if isinstance(r, Membership)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(admitted) == 1
    assert len(refused) == 7
    assert Membership.objects.filter(group=group, user__in=people).count() == 1


def test_double_clicked_join_request_stores_one(group) -> None:
    person = UserFactory()
    results = _race(
        [lambda: services.request_to_join(group=group, user=person) for _ in range(4)]
    )
    assert sum(isinstance(r, JoinRequest) for r in results) == 1
    assert all(isinstance(r, (JoinRequest, ValidationError)) for r in results)
    assert JoinRequest.objects.filter(group=group, user=person).count() == 1


def test_approvals_never_exceed_group_capacity(group, facilitator) -> None:
    group.capacity = 2
    group.save()
    requests = [
        services.request_to_join(group=group, user=UserFactory()) for _ in range(5)
    ]
    _race(
        [
            lambda r=r: services.decide_request(
                request_id=r.pk, group=group, by=facilitator, approve=True
            )
            for r in requests
        ]
    )
    assert group.memberships.filter(role="member").count() == 2
