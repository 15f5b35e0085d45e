""" "I'm not safe right now" from the footer of every page (docs/safety.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from safety.models import SafetyAlert
from tests.factories import MeetingFactory, MembershipFactory, SupportGroupFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("resources")]
URL = reverse("safety:not_safe")


def test_every_page_has_the_footer_button(client: Client, member: Any) -> None:
    for who in (None, member):
        if who is not None:
            client.force_login(who)
        page = client.get(reverse("safety:support")).content.decode()
        assert f'<form method="post" action="{URL}" class="not-safe-form">' in page
        assert "csrfmiddlewaretoken" in page.split('class="not-safe-form">')[1]
        assert ">I'm not safe right now</button>" in page


def test_a_visitor_gets_the_card_and_nobody_is_told(client: Client) -> None:
    response = client.post(URL, {"country": "US"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "988" in page
    assert "No one has been told" in page
    assert "no-store" in response["Cache-Control"]
    assert not SafetyAlert.objects.exists()


def test_a_member_tells_the_facilitators_of_every_group_and_sees_who(
    client: Client,
    group: Any,
    member: Any,
    facilitator: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    other = SupportGroupFactory(name="Night owls")
    MembershipFactory(group=other, user=member)
    other_lead = MembershipFactory(group=other, role="facilitator").user
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(URL).content.decode()
    alerts = SafetyAlert.objects.filter(subject=member)
    assert sorted(a.group_id for a in alerts) == sorted([group.pk, other.pk])
    assert {(a.tier, tuple(a.reasons), a.meeting_id) for a in alerts} == {
        ("imminent", ("member.not_safe",), None)
    }
    assert group.name in page and "Night owls" in page
    # Nobody can be known to be watching outside a room: emailed at once.
    for lead in (facilitator, other_lead):
        assert [m for m in mail.outbox if lead.email in m.to]


def test_a_session_on_now_is_the_one_told(
    client: Client, group: Any, member: Any
) -> None:
    other = SupportGroupFactory(name="Night owls")
    MembershipFactory(group=other, user=member)
    live = MeetingFactory(
        group=group, starts_at=timezone.now() - dt.timedelta(minutes=10)
    )
    client.force_login(member)
    page = client.post(URL).content.decode()
    (alert,) = SafetyAlert.objects.filter(subject=member)
    assert (alert.group, alert.meeting) == (group, live)
    assert "Night owls" not in page


def test_the_room_fallback_names_its_session_only_for_members(
    client: Client, group: Any, member: Any
) -> None:
    meeting = MeetingFactory(
        group=group, starts_at=timezone.now() + dt.timedelta(days=3)
    )
    foreign = MeetingFactory(group=SupportGroupFactory())
    client.force_login(member)
    client.post(URL, {"meeting": str(meeting.pk)})
    client.post(URL, {"meeting": str(foreign.pk)})  # not theirs: the usual rule
    alerts = SafetyAlert.objects.filter(subject=member).order_by("pk")
    assert [(a.group_id, a.meeting_id) for a in alerts] == [
        (group.pk, meeting.pk),
        (group.pk, None),
    ]


def test_past_three_taps_the_card_still_shows_and_the_alert_is_bumped(
    client: Client, group: Any, member: Any
) -> None:
    client.force_login(member)
    for _ in range(3):
        client.post(URL)
    page = client.post(URL).content.decode()
    assert "already know" in page and "crisis-card" in page
    counts = list(SafetyAlert.objects.order_by("pk").values_list("count", flat=True))
    assert counts == [1, 1, 2]


def test_a_get_shows_the_card_and_tells_nobody(client: Client, member: Any) -> None:
    client.force_login(member)
    page = client.get(URL).content.decode()
    assert "crisis-card" in page and "Tell my facilitators" in page
    assert not SafetyAlert.objects.exists()


def test_a_cross_site_post_is_refused(member: Any) -> None:
    """A-18: the alert needs the CSRF token."""
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    assert strict.post(URL).status_code == 403
    assert not SafetyAlert.objects.exists()
