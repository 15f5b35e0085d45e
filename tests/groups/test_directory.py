"""The directory shows each group as it is now, in the viewer's time zone.

Its entries are rendered once per content (groups/views/fragments.py): these
guard the key, so a change to anything shown is never served stale.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from groups.models import Visibility
from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    SupportGroupFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


CHANGES = {
    "name": ({"name": "Evening circle"}, "Evening circle"),
    "slug": ({"slug": "evening"}, 'href="/groups/evening/"'),
    "topic": ({"topic": "grief"}, '<span class="badge">Grief and loss</span>'),
    "region": ({"region": "IE"}, "Ireland"),
    "description": ({"description": "We meet after work."}, "We meet after work."),
    "capacity": ({"capacity": 8}, "0 members of 8"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_entries_follow_each_change_to_the_group(client: Client, change: str) -> None:
    group = SupportGroupFactory(name="Morning circle")
    fields, shown = CHANGES[change]
    assert shown not in client.get("/groups/").content.decode()
    for name, value in fields.items():
        setattr(group, name, value)
    group.save()
    assert shown in client.get("/groups/").content.decode()


def test_entries_follow_new_members_and_sessions(client: Client) -> None:
    group = SupportGroupFactory()
    assert "0 members of 12" in client.get("/groups/").content.decode()
    MembershipFactory(group=group)
    assert "1 member of 12" in client.get("/groups/").content.decode()
    MeetingFactory(group=group)
    assert "next session" in client.get("/groups/").content.decode()


def test_next_session_is_shown_in_each_viewers_zone(client: Client) -> None:
    group = SupportGroupFactory()
    starts = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    MeetingFactory(group=group, starts_at=starts + dt.timedelta(days=2))
    seen = set()
    for zone in ("UTC", "Asia/Tokyo"):
        client.force_login(UserFactory(timezone=zone))
        html = client.get("/groups/").content.decode()
        seen.add("12:00" in html)
    assert seen == {True, False}


def test_invite_only_and_archived_groups_stay_out(client: Client) -> None:
    SupportGroupFactory(name="Listed")
    SupportGroupFactory(name="Hidden", visibility=Visibility.INVITE)
    SupportGroupFactory(name="Closed", archived_at=timezone.now())
    html = client.get("/groups/").content.decode()
    assert "Listed" in html and "Hidden" not in html and "Closed" not in html
