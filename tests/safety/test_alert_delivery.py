"""Alert emails (docs/safety.md, Alert delivery): an outbox row per alert
and recipient, written with the alert; each row is sent at most once; a
failed send is recorded and retried by the minute sweep (M-11)."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.utils import timezone

from safety import services, tasks
from safety.models import AlertDelivery, AuditLog, SafetyAlert
from safety.services import delivery
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def imminent(group: Any, member: Any, **kw: Any) -> SafetyAlert:
    return services.alert_facilitators(
        group=group,
        subject=member,
        tier="imminent",
        reasons=["imminent.intent_with_time_or_place"],
        facilitators_connected=False,
        meeting=MeetingFactory(group=group),
        **kw,
    )


def test_the_outbox_rows_are_written_with_the_alert_before_any_send(
    group, member, facilitator, settings, mailoutbox
) -> None:  # type: ignore[no-untyped-def]
    """M-11: deferred emails are committed with the alert, none sent yet."""
    settings.HEARTH_SAFETY_CONTACTS = ["oncall@example.org"]
    alert = imminent(group, member, defer_emails=True)
    rows = AlertDelivery.objects.filter(alert=alert)
    assert sorted(rows.values_list("address", flat=True)) == sorted(
        ["oncall@example.org", facilitator.email]
    )
    assert all(r.sent_at is None and r.attempts == 0 for r in rows)
    assert mailoutbox == []


def test_sending_twice_emails_each_recipient_once(
    group, member, facilitator, settings, mailoutbox
) -> None:  # type: ignore[no-untyped-def]
    settings.HEARTH_SAFETY_CONTACTS = ["oncall@example.org"]
    alert = imminent(group, member, defer_emails=True)
    assert services.send_alert_emails(alert_id=alert.pk) == 2
    assert services.send_alert_emails(alert_id=alert.pk) == 0
    tasks.send_alert_emails.delay(alert.pk)  # a redelivered task
    assert len(mailoutbox) == 2
    assert AlertDelivery.objects.filter(sent_at__isnull=True).count() == 0


def test_a_row_another_sender_holds_is_left_alone(
    group, member, facilitator, mailoutbox
) -> None:  # type: ignore[no-untyped-def]
    alert = imminent(group, member, defer_emails=True)
    AlertDelivery.objects.update(claimed_at=timezone.now())
    assert services.send_alert_emails(alert_id=alert.pk) == 0
    assert mailoutbox == []


def test_a_hung_smtp_server_is_recorded_and_the_sweep_retries_once_it_is_back(
    group, member, facilitator, settings, smtp_blackhole, mailoutbox
) -> None:  # type: ignore[no-untyped-def]
    """M-11: a relay that accepts and never answers costs one timeout per
    recipient; the alert and its outbox rows stay, and the sweep sends them
    when mail works again, once."""
    settings.HEARTH_SAFETY_CONTACTS = []
    alert = imminent(group, member, defer_emails=True)
    assert services.send_alert_emails(alert_id=alert.pk) == 0
    assert smtp_blackhole.accepted.is_set()
    row = AlertDelivery.objects.get(alert=alert)
    assert (row.attempts, row.sent_at, row.claimed_at) == (1, None, None)
    assert row.last_error in ("TimeoutError", "SMTPServerDisconnected")
    assert AuditLog.objects.filter(action="alert.email", reason="0 sent, 1 failed")
    settings.MAILERS = LOCMEM
    assert services.retry_alert_emails() == 0  # not a minute yet
    later = timezone.now() + dt.timedelta(minutes=2)
    assert services.retry_alert_emails(now=later) == 1
    assert services.retry_alert_emails(now=later) == 0
    assert [m.to for m in mailoutbox] == [[facilitator.email]]
    alert.refresh_from_db()
    assert alert.emailed_at is not None and alert.acknowledged_at is None


def test_the_sweep_gives_up_after_the_last_attempt(
    group, member, facilitator, smtp_blackhole
) -> None:  # type: ignore[no-untyped-def]
    alert = imminent(group, member, defer_emails=True)
    AlertDelivery.objects.update(attempts=delivery.MAX_ATTEMPTS)
    later = timezone.now() + dt.timedelta(minutes=2)
    assert services.retry_alert_emails(now=later) == 0
    assert not smtp_blackhole.accepted.is_set()
    assert AlertDelivery.objects.get(alert=alert).sent_at is None


def test_escalation_rows_of_an_acknowledged_alert_are_not_retried(
    group, member, facilitator, smtp_blackhole, settings
) -> None:  # type: ignore[no-untyped-def]
    alert = services.alert_facilitators(
        group=group, subject=member, tier="method", facilitators_connected=True
    )
    later = timezone.now() + dt.timedelta(minutes=6)
    assert services.escalate_unacknowledged(now=later) == 0  # the relay hung
    services.acknowledge_alert(alert_id=alert.pk, by=facilitator)
    settings.MAILERS = LOCMEM
    assert services.retry_alert_emails(now=later + dt.timedelta(minutes=2)) == 0


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_the_emails_go_from_a_thread(
    group, member, facilitator, monkeypatch, mailoutbox
) -> None:  # type: ignore[no-untyped-def]
    """M-11: the room's call returns at once; the hand-off thread finds the
    broker refusing the task and sends the emails itself."""
    alert = imminent(group, member, defer_emails=True)
    monkeypatch.setitem(tasks.send_alert_emails.app.conf, "task_always_eager", False)

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.send_alert_emails, "apply_async", broker_down)
    services.dispatch_alert_emails(alert_id=alert.pk)
    for thread in threading.enumerate():  # started, and maybe done already
        if thread.name == f"alert-email-{alert.pk}":
            thread.join(timeout=10)
    assert [m.to for m in mailoutbox] == [[facilitator.email]]


def test_staff_can_send_given_up_emails_again_from_the_admin(
    group, member, facilitator, staff, client
) -> None:  # type: ignore[no-untyped-def]
    alert = imminent(group, member, defer_emails=True)
    AlertDelivery.objects.update(attempts=delivery.MAX_ATTEMPTS, last_error="X")
    client.force_login(staff)
    url = "/admin/safety/alertdelivery/"
    assert client.get(url).status_code == 200
    ids = list(AlertDelivery.objects.values_list("pk", flat=True))
    client.post(url, {"action": "send_again", "_selected_action": ids})
    row = AlertDelivery.objects.get(alert=alert)
    assert (row.attempts, row.tried_at) == (0, None)
    later = timezone.now() + dt.timedelta(minutes=2)
    assert services.retry_alert_emails(now=later) == 1
