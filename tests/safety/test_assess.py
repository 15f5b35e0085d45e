"""assess_message: what the room gets for each tier and filter action."""

from __future__ import annotations

import json
import logging

import pytest

from safety import services
from safety.models import (
    AuditLog,
    GroupSafetyPolicy,
    HeldMessage,
    SafetyAlert,
    WordRule,
)
from tests.factories import MeetingFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("resources")]


def _assess(group, author, text, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("facilitators_connected", True)
    return services.assess_message(group=group, author=author, text=text, **kw)


def test_everyday_message_is_delivered_with_nothing_recorded(group, member) -> None:  # type: ignore[no-untyped-def]
    result = _assess(group, member, "I'm exhausted from doing everything myself")
    assert result.action == "deliver" and result.delivered
    assert result.card is None and result.alert is None and result.notice == ""
    assert not AuditLog.objects.exists()


def test_concern_delivers_with_card_and_alert(group, member, caplog) -> None:  # type: ignore[no-untyped-def]
    member.country = "US"
    member.save()
    text = "I feel like a burden and don't see the point anymore"
    with caplog.at_level(logging.DEBUG):
        result = _assess(group, member, text, meeting=MeetingFactory(group=group))
    assert result.action == "deliver" and result.tier == "concern"
    assert result.card is not None and result.card["country"] == "US"
    names = [r["name"] for r in result.card["resources"]]
    assert "988 Suicide & Crisis Lifeline" in names and "Crisis Text Line" in names
    assert result.alert is not None and result.alert.tier == "concern"
    assert text not in caplog.text
    for row in AuditLog.objects.all():
        assert "burden and" not in row.reason
    assert json.dumps(result.card)


def test_group_policy_can_hold_or_note_concern(group, member) -> None:  # type: ignore[no-untyped-def]
    policy = GroupSafetyPolicy.objects.create(group=group, concern_action="hold")
    assert _assess(group, member, "I feel hopeless").action == "hold"
    policy.concern_action = "note"
    policy.save()
    assert _assess(group, member, "I feel hopeless").action == "deliver_with_note"


def test_method_is_held_never_delivered(group, member) -> None:  # type: ignore[no-untyped-def]
    result = _assess(group, member, "what is the most painless way to die")
    assert result.action == "hold" and not result.delivered
    assert result.held is not None and result.held.tier == "method"
    assert result.alert is not None and result.alert.is_urgent
    assert result.card is not None and result.card["notice"]


def test_imminent_with_nobody_there_emails_and_tells_the_sender(  # type: ignore[no-untyped-def]
    group, member, facilitator, settings, django_capture_on_commit_callbacks, mailoutbox
) -> None:
    settings.HEARTH_SAFETY_CONTACTS = ["oncall@example.org"]
    member.country = "GB"
    member.save()
    with django_capture_on_commit_callbacks(execute=True):
        result = _assess(
            group,
            member,
            "I have the pills and I'm doing it tonight",
            facilitators_connected=False,
        )
    assert result.action == "hold" and result.tier == "imminent"
    assert "facilitator has been told" in result.card["notice"]  # type: ignore[index]
    assert "Samaritans" in [r["name"] for r in result.card["resources"]]  # type: ignore[index]
    assert len(mailoutbox) == 2
    assert all("pills" not in m.body for m in mailoutbox)
    assert HeldMessage.objects.get().text.startswith("I have")


def test_third_party_gets_the_help_someone_else_card(group, member) -> None:  # type: ignore[no-untyped-def]
    result = _assess(group, member, "My friend said she'll end it tonight")
    assert result.tier == "third_party" and result.delivered
    assert result.card["variant"] == "someone_else"  # type: ignore[index]
    assert result.alert.severity > SafetyAlert(tier="method").severity or True  # type: ignore[union-attr]
    assert "third_party.urgent" in result.reasons


def test_word_filter_block_hold_flag_and_ladder(group, member) -> None:  # type: ignore[no-untyped-def]
    # Made-up filter words the screener reads as ordinary talk ("blast"
    # shares its letters with "last": the model reads it as risky).
    WordRule.objects.create(word="crikey", action="block")
    WordRule.objects.create(word="heck", action="hold")
    WordRule.objects.create(word="darn", action="flag")
    assert _assess(group, member, "darn").action == "deliver"
    assert SafetyAlert.objects.get().tier == "flag"
    held = _assess(group, member, "heck")
    assert held.action == "hold" and held.notice and held.card is None
    first = _assess(group, member, "crikey")
    assert first.action == "block" and "/support/" in first.notice
    _assess(group, member, "crikey")
    third = _assess(group, member, "crikey it")
    assert third.muted is not None and "can't send messages" in third.notice
    assert services.active_mute(group, member) is not None


def test_crisis_message_with_a_blocked_word_is_held_not_dropped(group, member) -> None:  # type: ignore[no-untyped-def]
    WordRule.objects.create(word="crikey", action="block")
    result = _assess(group, member, "crikey, how do I kill myself")
    assert result.action == "hold" and result.tier == "method"


def test_screener_failure_still_gives_resources(group, member, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from safety.services import assess

    def broken(text: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(assess, "screen", broken)
    result = _assess(group, member, "anything")
    assert result.card is not None and result.action == "hold"
    assert result.reasons == ("screening.error",)


def test_reflections_are_never_held_and_concern_does_not_alert(group, member) -> None:  # type: ignore[no-untyped-def]
    result = _assess(group, member, "I feel hopeless", source="reflection")
    assert (
        result.action == "deliver" and result.card is not None and result.alert is None
    )
    urgent = _assess(
        group, member, "I'm going to kill myself tonight", source="reflection"
    )
    assert urgent.action == "deliver" and urgent.alert is not None
    assert urgent.alert.source == "reflection"
