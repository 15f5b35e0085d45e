"""List pages run a fixed number of queries whatever the row count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groups.models import RSVP
from tests.factories import MeetingFactory, MembershipFactory, SupportGroupFactory

pytestmark = pytest.mark.django_db


def _queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def _add_groups(n: int, user: object) -> None:
    for _ in range(n):
        group = SupportGroupFactory()
        MembershipFactory.create_batch(2, group=group)
        MembershipFactory(group=group, user=user)
        meeting = MeetingFactory(group=group)
        RSVP.objects.create(meeting=meeting, user=user, status="going")


@pytest.mark.parametrize(
    "path",
    [
        "/groups/",
        "/groups/?q=circle&topic=hyper-independence",
        "/me/groups/",
        "/me/schedule/",
        "/",
    ],
)
def test_list_pages_do_not_grow_with_rows(path: str, stranger) -> None:
    client = Client()
    client.force_login(stranger)
    _add_groups(2, stranger)
    few = _queries(client, path)
    _add_groups(15, stranger)
    many = _queries(client, path)
    assert many == few, f"{path}: {few} queries with 2 groups, {many} with 17"


def test_group_page_does_not_grow_with_members_or_sessions(group, member) -> None:
    client = Client()
    client.force_login(member)
    path = f"/groups/{group.slug}/"
    few = _queries(client, path)
    MembershipFactory.create_batch(10, group=group)
    for days in range(1, 8):
        MeetingFactory(group=group, starts_at=timezone.now() + dt.timedelta(days=days))
    assert _queries(client, path) == few


def test_members_page_does_not_grow(group, facilitator) -> None:
    from groups.models import JoinRequest
    from tests.factories import UserFactory

    client = Client()
    client.force_login(facilitator)
    path = f"/groups/{group.slug}/members/"
    few = _queries(client, path)
    MembershipFactory.create_batch(10, group=group)
    for _ in range(5):
        JoinRequest.objects.create(group=group, user=UserFactory())
    assert _queries(client, path) == few


def test_session_page_does_not_grow_with_rsvps(group, member) -> None:
    meeting = MeetingFactory(group=group)
    client = Client()
    client.force_login(member)
    path = f"/sessions/{meeting.pk}/"
    few = _queries(client, path)
    for status in ("going", "going", "waitlisted", "not_going"):
        RSVP.objects.create(
            meeting=meeting, user=MembershipFactory(group=group).user, status=status
        )
    assert _queries(client, path) == few
