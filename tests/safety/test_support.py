"""Asking for help: the gentle check-in flag, "I'd like support" and "I'm
not safe right now" as the safety app decides them (docs/safety.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from safety import services
from safety.models import AuditLog, SafetyAlert, WordRule
from safety.screening import Result
from safety.services import assess
from tests.factories import MeetingFactory, MembershipFactory, SupportGroupFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("resources")]


@pytest.fixture
def unsure(monkeypatch: pytest.MonkeyPatch) -> None:
    """The screener, unsure about everything (it does not set the flag yet)."""
    monkeypatch.setattr(
        assess, "screen", lambda text: Result("none", (), uncertain=True)
    )


@pytest.mark.usefixtures("unsure")
def test_an_unsure_screen_offers_the_check_in_and_raises_nothing(
    group: Any, member: Any
) -> None:
    meeting = MeetingFactory(group=group)
    result = services.assess_message(
        group=group,
        author=member,
        text="it has been a lot lately",
        facilitators_connected=True,
        meeting=meeting,
    )
    assert result.checkin and result.delivered
    assert result.card is None and result.alert is None and result.notice == ""
    assert not SafetyAlert.objects.exists()
    # Counted for the summary, without the person.
    (row,) = AuditLog.objects.filter(action="checkin.offered")
    assert (row.target_type, row.target_id, row.actor_id) == (
        "meeting",
        str(meeting.pk),
        None,
    )
    assert str(member.pk) not in row.reason


@pytest.mark.usefixtures("unsure")
def test_a_message_not_delivered_gets_its_notice_not_a_check_in(
    group: Any, member: Any
) -> None:
    WordRule.objects.create(word="blast", action="block")
    result = services.assess_message(
        group=group, author=member, text="blast", facilitators_connected=True
    )
    assert result.action == "block" and not result.checkin


def test_a_sure_screen_offers_no_check_in(group: Any, member: Any) -> None:
    calm = services.assess_message(
        group=group, author=member, text="lovely evening", facilitators_connected=True
    )
    worried = services.assess_message(
        group=group,
        author=member,
        text="I feel like a burden and don't see the point anymore",
        facilitators_connected=True,
    )
    assert not calm.checkin and not worried.checkin


@pytest.mark.usefixtures("unsure")
def test_reflections_get_no_check_in(group: Any, member: Any) -> None:
    result = services.assess_message(
        group=group,
        author=member,
        text="a quiet note",
        facilitators_connected=True,
        source="reflection",
    )
    assert not result.checkin


def test_asking_for_support_alerts_privately_with_no_text(
    group: Any, member: Any
) -> None:
    member.country = "GB"
    member.save()
    meeting = MeetingFactory(group=group)
    answer = services.ask_for_support(
        group=group, member=member, meeting=meeting, facilitators_connected=True
    )
    (alert,) = answer.alerts
    assert (alert.tier, alert.reasons, alert.source) == (
        "concern",
        ["member.asked_support"],
        "member",
    )
    assert alert.meeting == meeting and alert.subject == member
    assert answer.card["country"] == "GB" and answer.card["resources"]
    assert "told, privately" in answer.card["notice"]
    # Over the room's rate limit: the card again, no alert.
    quiet = services.ask_for_support(
        group=group, member=member, facilitators_connected=True, alert=False
    )
    assert quiet.alerts == [] and quiet.card["resources"]
    assert SafetyAlert.objects.count() == 1


def test_a_support_request_is_its_own_alert_beside_a_screened_one(
    group: Any, member: Any
) -> None:
    meeting = MeetingFactory(group=group)
    services.assess_message(
        group=group,
        author=member,
        text="I feel like a burden and don't see the point anymore",
        facilitators_connected=True,
        meeting=meeting,
    )
    services.ask_for_support(
        group=group, member=member, meeting=meeting, facilitators_connected=True
    )
    rows = SafetyAlert.objects.order_by("pk").values_list("source", "tier", "count")
    assert list(rows) == [("chat", "concern", 1), ("member", "concern", 1)]


def test_not_safe_is_urgent_and_emailed_when_nobody_is_connected(
    group: Any, member: Any, facilitator: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """M-10: no facilitator online, so the alert is emailed at once."""
    meeting = MeetingFactory(group=group)
    with django_capture_on_commit_callbacks(execute=True):
        answer = services.say_not_safe(
            member=member,
            targets=[(group, meeting)],
            facilitators_connected=False,
        )
    (alert,) = answer.alerts
    assert (alert.tier, alert.reasons) == ("imminent", ["member.not_safe"])
    assert answer.card["tier"] == "imminent"
    assert group.name in answer.card["notice"]
    assert "not shown to the group" not in answer.card["notice"]
    (email,) = [m for m in mail.outbox if facilitator.email in m.to]
    assert "Urgent" in email.subject


def test_not_safe_past_the_limit_bumps_instead_of_raising(
    group: Any, member: Any, settings: Any
) -> None:
    settings.HEARTH_NOT_SAFE_ALERTS = 3
    meeting = MeetingFactory(group=group)
    cards = []
    for _ in range(5):
        answer = services.say_not_safe(
            member=member, targets=[(group, meeting)], facilitators_connected=True
        )
        cards.append(answer.card)
    alerts = list(SafetyAlert.objects.order_by("created_at", "pk"))
    assert len(alerts) == 3
    assert [a.count for a in alerts] == [1, 1, 3]
    assert all(card["resources"] for card in cards)
    assert "already know" in cards[-1]["notice"]
    # The window passes: a new alert again.
    SafetyAlert.objects.update(created_at=timezone.now() - dt.timedelta(minutes=11))
    services.say_not_safe(
        member=member, targets=[(group, meeting)], facilitators_connected=True
    )
    assert SafetyAlert.objects.count() == 4


def test_outside_a_room_the_groups_on_now_hear_else_all() -> None:
    quiet = SupportGroupFactory(name="Quiet group")
    busy = SupportGroupFactory(name="Busy group")
    person = MembershipFactory(group=quiet).user
    MembershipFactory(group=busy, user=person)
    assert services.groups_to_tell(person) == [(busy, None), (quiet, None)]
    now = MeetingFactory(group=busy, starts_at=timezone.now() - dt.timedelta(minutes=5))
    MeetingFactory(group=quiet, starts_at=timezone.now() + dt.timedelta(days=2))
    assert services.groups_to_tell(person) == [(busy, now)]


def test_a_visitor_gets_the_card_and_no_one_is_told() -> None:
    from django.contrib.auth.models import AnonymousUser

    answer = services.say_not_safe(member=AnonymousUser(), targets=[])
    assert answer.alerts == [] and answer.told == []
    assert answer.card["resources"]
    assert answer.card["notice"].startswith("No one has been told")
