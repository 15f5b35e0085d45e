from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.utils import timezone

from safety import hooks, services
from safety.models import (
    AuditLog,
    HeldMessage,
    ImmutableRecordError,
    Mute,
    Report,
    SafetyAlert,
)
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_audit_rows_are_immutable(group: object, facilitator: object) -> None:
    row = services.audit(facilitator, "test.action", target=("thing", 1), group=group)
    row.reason = "changed"
    with pytest.raises(ImmutableRecordError):
        row.save()
    with pytest.raises(ImmutableRecordError):
        row.delete()
    with pytest.raises(ImmutableRecordError):
        AuditLog.objects.filter(pk=row.pk).update(reason="changed")
    with pytest.raises(ImmutableRecordError):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.get(pk=row.pk).reason == ""


def test_audit_admin_is_read_only_for_staff(group: object, staff: object) -> None:
    row = services.audit(None, "test.action", target=("thing", 1), group=group)
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/safety/auditlog/").status_code == 200
    assert client.get(f"/admin/safety/auditlog/{row.pk}/change/").status_code == 200
    assert client.get("/admin/safety/auditlog/add/").status_code == 403
    assert client.post(f"/admin/safety/auditlog/{row.pk}/delete/").status_code == 403


def test_held_message_lifecycle(group, facilitator, member, settings) -> None:  # type: ignore[no-untyped-def]
    decided: list[dict[str, object]] = []
    hooks.held_message_decided.connect(lambda **kw: decided.append(kw), weak=False)
    held = services.hold_message(
        group=group,
        author=member,
        text="the words",
        tier="method",
        reasons=["method.seeking"],
    )
    row = AuditLog.objects.get(action="message.hold")
    assert "the words" not in row.reason
    other = MembershipFactory(role="facilitator").user
    for outsider in (member, other):
        with pytest.raises(Http404):
            services.decide_held(held_id=held.pk, by=outsider, approve=True)
    decision = services.decide_held(held_id=held.pk, by=facilitator, approve=True)
    assert decision.text == "the words" and decision.approved
    held.refresh_from_db()
    assert held.text == "" and held.status == "approved"
    assert decided[-1]["text"] == "the words"
    with pytest.raises(ValidationError):
        services.decide_held(held_id=held.pk, by=facilitator, approve=False)
    rejected = services.hold_message(group=group, author=member, text="x")
    assert (
        services.decide_held(held_id=rejected.pk, by=facilitator, approve=False).text
        is None
    )
    assert HeldMessage.objects.get(pk=rejected.pk).text == ""
    assert (
        AuditLog.objects.filter(action__in=["held.approve", "held.reject"]).count() == 2
    )
    hooks.held_message_decided.receivers.clear()


def test_facilitators_do_not_review_their_own_held_messages(
    group, facilitator, cofacilitator
) -> None:  # type: ignore[no-untyped-def]
    held = services.hold_message(group=group, author=facilitator, text="x")
    with pytest.raises(PermissionDenied):
        services.decide_held(held_id=held.pk, by=facilitator, approve=True)
    services.decide_held(held_id=held.pk, by=cofacilitator, approve=True)


def test_reports_dedupe_weigh_and_hide_without_naming_reporters(
    group, member, facilitator
) -> None:  # type: ignore[no-untyped-def]
    author = MembershipFactory(group=group).user
    old = timezone.now() - dt.timedelta(days=30)
    reporters = [
        MembershipFactory(group=group, user=UserFactory(date_joined=old)).user
        for _ in range(3)
    ]
    first = services.report_message(
        reporter=reporters[0],
        group=group,
        event_id=5,
        reason="harassment",
        author=author,
    )
    again = services.report_message(
        reporter=reporters[0], group=group, event_id=5, reason="hate", author=author
    )
    assert first.created and not again.created and again.score == 1.0
    services.report_message(
        reporter=reporters[1], group=group, event_id=5, reason="hate", author=author
    )
    third = services.report_message(
        reporter=reporters[2], group=group, event_id=5, reason="spam", author=author
    )
    assert third.score == 3.0 and third.should_hide
    with pytest.raises(ValidationError):
        services.report_message(
            reporter=author, group=group, event_id=5, reason="spam", author=author
        )
    with pytest.raises(ValidationError):
        services.report_message(
            reporter=member, group=group, event_id=5, reason="nonsense"
        )
    with pytest.raises(PermissionDenied):
        services.report_message(
            reporter=UserFactory(), group=group, event_id=5, reason="spam"
        )
    # The queue never names reporters to facilitators.
    client = Client()
    client.force_login(facilitator)
    page = client.get("/moderation/").content.decode()
    assert "3 reports" in page
    for reporter in reporters:
        assert reporter.display_name not in page
    # The author's own "My reports" shows nothing about others' reports.
    client.force_login(author)
    assert "Harassment" not in client.get("/support/reports/").content.decode()


def test_brigading_new_accounts_do_not_auto_hide(group) -> None:  # type: ignore[no-untyped-def]
    newcomers = [MembershipFactory(group=group).user for _ in range(3)]
    outcome = None
    for user in newcomers:
        outcome = services.report_message(
            reporter=user, group=group, event_id=9, reason="spam"
        )
    assert outcome is not None and not outcome.should_hide and outcome.score < 1


def test_resolving_a_report_resolves_the_event_and_tells_reporters(
    group, facilitator
) -> None:  # type: ignore[no-untyped-def]
    a, b = (MembershipFactory(group=group).user for _ in range(2))
    report = services.report_message(
        reporter=a, group=group, event_id=3, reason="harassment"
    ).report
    services.report_message(reporter=b, group=group, event_id=3, reason="hate")
    resolved = services.resolve_report(
        report_id=report.pk, by=facilitator, outcome="hidden"
    )
    assert len(resolved) == 2
    assert set(Report.objects.values_list("outcome", flat=True)) == {"hidden"}
    client = Client()
    client.force_login(b)
    assert "The message was hidden" in client.get("/support/reports/").content.decode()
    with pytest.raises(ValidationError):
        services.resolve_report(report_id=report.pk, by=facilitator, outcome="hidden")


def test_mutes(group, facilitator, member, cofacilitator) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        services.mute_member(group=group, user=cofacilitator, by=member, minutes=5)
    with pytest.raises(ValidationError):
        services.mute_member(group=group, user=cofacilitator, by=facilitator, minutes=5)
    with pytest.raises(ValidationError):
        services.mute_member(group=group, user=member, by=facilitator)
    with pytest.raises(ValidationError):
        services.mute_member(group=group, user=member, by=facilitator, minutes=0)
    mute = services.mute_member(
        group=group, user=member, by=facilitator, minutes=15, reason="cool off"
    )
    assert services.active_mute(group, member) == mute
    shorter = services.mute_member(group=group, user=member, by=facilitator, minutes=5)
    assert shorter == mute
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert services.active_mute(group, member) is None
    services.unmute_member(group=group, user=member, by=facilitator)
    assert services.active_mute(group, member) is None
    assert AuditLog.objects.filter(action="member.mute").count() == 1
    assert AuditLog.objects.filter(action="member.unmute").count() == 1


def test_strike_ladder(group, member) -> None:  # type: ignore[no-untyped-def]
    assert (
        services.record_blocked_message(group=group, author=member, rule_ids=[1])
        is None
    )
    assert (
        services.record_blocked_message(group=group, author=member, rule_ids=[1])
        is None
    )
    mute = services.record_blocked_message(group=group, author=member, rule_ids=[2])
    assert mute is not None and mute.by is None
    assert (
        dt.timedelta(hours=23) < mute.until - timezone.now() <= dt.timedelta(hours=24)
    )


def test_strikes_older_than_six_hours_do_not_count(group, member) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(timezone.now() - dt.timedelta(hours=7)):
        services.record_blocked_message(group=group, author=member)
        services.record_blocked_message(group=group, author=member)
    assert services.record_blocked_message(group=group, author=member) is None
    assert not Mute.objects.exists()


def test_alerts_dedupe_and_order_by_severity(group, member, facilitator) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        services.alert_facilitators(
            group=group,
            subject=member,
            tier="concern",
            reasons=["concern.burden"],
            facilitators_connected=True,
        )
    concern = SafetyAlert.objects.get()
    assert concern.count == 5
    other = MembershipFactory(group=group).user
    services.alert_facilitators(
        group=group, subject=other, tier="imminent", facilitators_connected=True
    )
    services.alert_facilitators(
        group=group, subject=other, tier="imminent", facilitators_connected=True
    )
    assert SafetyAlert.objects.filter(tier="imminent").count() == 2
    assert next(a.tier for a in SafetyAlert.objects.all()) == "imminent"
    client = Client()
    client.force_login(facilitator)
    page = client.get("/moderation/").content.decode()
    assert page.index("Imminent risk") < page.index("Concern")
    services.acknowledge_alert(alert_id=concern.pk, by=facilitator)
    services.acknowledge_alert(alert_id=concern.pk, by=facilitator)
    assert AuditLog.objects.filter(action="alert.acknowledge").count() == 1


def test_imminent_with_no_facilitator_emails_at_once(
    group, member, facilitator, settings, django_capture_on_commit_callbacks, mailoutbox
) -> None:  # type: ignore[no-untyped-def]
    settings.HEARTH_SAFETY_CONTACTS = ["oncall@example.org"]
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_facilitators(
            group=group,
            subject=member,
            tier="imminent",
            reasons=["imminent.intent_with_time_or_place"],
            facilitators_connected=False,
            meeting=MeetingFactory(group=group),
        )
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        ["oncall@example.org", facilitator.email]
    )
    body = mailoutbox[0].body
    assert member.display_name in body and "/moderation/" in body
    assert "imminent.intent" not in body  # rule ids stay out of email
    assert SafetyAlert.objects.get().emailed_at is not None


def test_no_email_when_a_facilitator_is_connected_or_not_imminent(
    group, member, settings, django_capture_on_commit_callbacks, mailoutbox
) -> None:  # type: ignore[no-untyped-def]
    settings.HEARTH_SAFETY_CONTACTS = ["oncall@example.org"]
    with django_capture_on_commit_callbacks(execute=True):
        services.alert_facilitators(
            group=group, subject=member, tier="imminent", facilitators_connected=True
        )
        services.alert_facilitators(
            group=group, subject=member, tier="method", facilitators_connected=False
        )
    assert mailoutbox == []


def test_unacknowledged_urgent_alerts_escalate_once(
    group, member, settings, mailoutbox
) -> None:  # type: ignore[no-untyped-def]
    settings.HEARTH_SAFETY_CONTACTS = ["oncall@example.org"]
    alert = services.alert_facilitators(
        group=group, subject=member, tier="method", facilitators_connected=True
    )
    assert services.escalate_unacknowledged() == 0
    later = timezone.now() + dt.timedelta(minutes=6)
    assert services.escalate_unacknowledged(now=later) == 1
    assert services.escalate_unacknowledged(now=later) == 0
    alert.refresh_from_db()
    assert alert.escalated_at is not None
    assert any("Still open" in m.subject for m in mailoutbox)
