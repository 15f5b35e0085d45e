"""Alert emails: an outbox row per recipient, written with the alert, sent
after the reply by a Celery task (ids only), or by a background thread when
the broker cannot take the task; safe to run twice (docs/safety.md, Alert
delivery; docs/operations.md, Safety email)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from accounts.emails import absolute, send_templated
from groups.models import FACILITATING_ROLES, Membership
from safety.models import AlertDelivery, AlertTier, SafetyAlert

from .audit import audit

log = logging.getLogger(__name__)

# A claim older than this belongs to a sender that died mid-send.
CLAIM_TIMEOUT = dt.timedelta(minutes=10)
# The sweep (safety.tasks.escalate_alerts, every minute) retries an unsent
# row this long after its last try, up to MAX_ATTEMPTS tries in all.
RETRY_AFTER = dt.timedelta(minutes=1)
MAX_ATTEMPTS = 5
# How long a hand-off waits for the broker to take the task (a refused
# Redis connection can take seconds to fail through its retries).
PUBLISH_TIMEOUT = 2.0
# Publishing runs here so that a hung broker costs a timeout, not a thread
# per alert; a publish that finally succeeds late finds its rows sent.
_publisher = ThreadPoolExecutor(max_workers=2, thread_name_prefix="alert-publish")


def safety_contacts() -> list[str]:
    contacts = getattr(settings, "HEARTH_SAFETY_CONTACTS", []) or []
    return [str(c).strip() for c in contacts if str(c).strip()]


def emails_due(tier: str, *, facilitators_connected: bool) -> bool:
    """An imminent alert with nobody watching the room is emailed at once."""
    return tier == AlertTier.IMMINENT and not facilitators_connected


def recipients(alert: SafetyAlert) -> list[tuple[str, str]]:
    """(address, time zone) of the facilitators and the safety contacts."""
    found: dict[str, str] = {}
    for membership in Membership.objects.filter(
        group_id=alert.group_id, role__in=FACILITATING_ROLES, user__is_active=True
    ).select_related("user"):
        if membership.user.email:
            found[membership.user.email.lower()] = membership.user.timezone
    for contact in safety_contacts():
        found.setdefault(contact.lower(), "UTC")
    return sorted(found.items())


def queue_alert_emails(alert: SafetyAlert, *, kind: str) -> None:
    """One pending row per recipient; existing rows are left alone."""
    for address, zone in recipients(alert):
        AlertDelivery.objects.get_or_create(
            alert=alert, kind=kind, address=address, defaults={"zone": zone}
        )


def dispatch_alert_emails(*, alert_id: int) -> None:
    """Hand an alert's pending emails to Celery, from a background thread:
    the caller (the room, after its reply has left; a view, after commit)
    never waits on the broker or on SMTP. When publishing fails or takes
    longer than PUBLISH_TIMEOUT (the broker is down), the same thread sends
    the emails itself. With CELERY_TASK_ALWAYS_EAGER, Celery's "run tasks
    where they are called", the task runs here and now."""
    from safety import tasks  # tasks import this module

    if tasks.send_alert_emails.app.conf.task_always_eager:
        tasks.send_alert_emails.apply_async((alert_id,))
        return
    threading.Thread(
        target=_hand_off, args=(alert_id,), name=f"alert-email-{alert_id}", daemon=True
    ).start()


def _hand_off(alert_id: int) -> None:
    from safety import tasks

    try:
        _publisher.submit(
            tasks.send_alert_emails.apply_async, (alert_id,), retry=False
        ).result(timeout=PUBLISH_TIMEOUT)
        return
    except Exception as error:
        log.warning(
            "alert email task not published (%s); sending from this thread alert=%s",
            type(error).__name__,
            alert_id,
        )
    try:
        send_alert_emails(alert_id=alert_id)
    except Exception:
        log.exception("alert email thread failed alert=%s", alert_id)
    finally:
        connection.close()  # this thread's own connection


def _claim(delivery_id: int, now: dt.datetime) -> bool:
    """Take one row for sending; False if it is sent or another sender has it."""
    return bool(
        AlertDelivery.objects.filter(pk=delivery_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(claimed_at=now, tried_at=now, attempts=F("attempts") + 1)
    )


def _send_one(alert: SafetyAlert, delivery: AlertDelivery, escalation: bool) -> int:
    return send_templated(
        to=[delivery.address],
        subject=(
            f"Still open: urgent safety alert in {alert.group.name}"
            if escalation
            else f"Urgent: a member of {alert.group.name} may need support"
        ),
        template="safety/email/alert",
        context={
            "alert": alert,
            "group": alert.group,
            "tier_label": alert.get_tier_display(),
            "queue_url": absolute(reverse("safety:queue")),
            "support_url": absolute(reverse("safety:support")),
            "escalation": escalation,
        },
        recipient_timezone=delivery.zone,
    )


def send_alert_emails(*, alert_id: int, escalation: bool = False) -> int:
    """Email an alert to each recipient separately (no shared To: line) and
    return how many went. No message text: who to check on, the tier, and a
    link to the queue. Each row is sent at most once; a failure is recorded
    on its row (class name only) for the sweep to retry."""
    alert = (
        SafetyAlert.objects.select_related("group", "subject")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or (escalation and alert.acknowledged_at is not None):
        return 0
    kind = AlertDelivery.Kind.ESCALATION if escalation else AlertDelivery.Kind.ALERT
    queue_alert_emails(alert, kind=kind)
    sent = failed = 0
    for delivery in AlertDelivery.objects.filter(
        alert=alert, kind=kind, sent_at__isnull=True
    ):
        if not _claim(delivery.pk, timezone.now()):
            continue
        try:
            _send_one(alert, delivery, escalation)
        except Exception as error:
            failed += 1
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                claimed_at=None, last_error=type(error).__name__[:64]
            )
            gave_up = delivery.attempts + 1 >= MAX_ATTEMPTS
            (log.error if gave_up else log.warning)(
                "safety alert email failed alert=%s delivery=%s error=%s final=%s",
                alert.pk,
                delivery.pk,
                type(error).__name__,
                gave_up,
            )
            continue
        AlertDelivery.objects.filter(pk=delivery.pk).update(
            claimed_at=None, sent_at=timezone.now(), last_error=""
        )
        sent += 1
    if sent:
        field = "escalated_at" if escalation else "emailed_at"
        SafetyAlert.objects.filter(pk=alert.pk).update(**{field: timezone.now()})
    if sent or failed:
        audit(
            None,
            "alert.escalate" if escalation else "alert.email",
            target=alert,
            group=alert.group_id,
            reason=f"{sent} sent, {failed} failed",
        )
    return sent


def retry_alert_emails(*, now: dt.datetime | None = None) -> int:
    """Send the rows still unsent a minute after their last try (a failed
    SMTP server, a lost task, a process that stopped). Run it every minute
    with the escalation sweep; returns how many alerts it retried."""
    now = now or timezone.now()
    due = (
        AlertDelivery.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .filter(
            Q(tried_at__isnull=True, created_at__lte=now - RETRY_AFTER)
            | Q(tried_at__lte=now - RETRY_AFTER)
        )
        .exclude(
            kind=AlertDelivery.Kind.ESCALATION, alert__acknowledged_at__isnull=False
        )
        .values_list("alert_id", "kind")
        .distinct()
        .order_by("alert_id", "kind")
    )
    pairs = list(due[:100])
    for alert_id, kind in pairs:
        send_alert_emails(
            alert_id=alert_id, escalation=kind == AlertDelivery.Kind.ESCALATION
        )
    return len(pairs)
