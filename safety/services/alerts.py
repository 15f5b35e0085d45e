"""Safety alerts to facilitators, emails when nobody is there, escalation."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from groups.models import Meeting, SupportGroup
from safety import hooks
from safety.models import AlertDelivery, AlertTier, HeldMessage, SafetyAlert
from safety.screening import Result

from .access import require_moderator
from .audit import audit
from .delivery import (
    dispatch_alert_emails,
    emails_due,
    queue_alert_emails,
    safety_contacts,
    send_alert_emails,
)

__all__ = ["safety_contacts", "send_alert_emails"]  # re-exported

log = logging.getLogger(__name__)

REPEAT_WINDOW = dt.timedelta(minutes=5)


def _escalate_after() -> dt.timedelta:
    return dt.timedelta(
        minutes=int(getattr(settings, "HEARTH_SAFETY_ESCALATE_MINUTES", 5))
    )


def record_screening(
    *,
    group: SupportGroup,
    subject: Any,
    result: Result,
    meeting: Meeting | None = None,
    source: str = "chat",
) -> None:
    """Log a screening outcome (tier and rule ids, never text). Tier "none"
    writes nothing."""
    if result.tier == "none":
        return
    audit(
        None,
        f"screening.{result.tier}",
        target=("user", subject.pk),
        group=group,
        reason=f"{source}: {','.join(result.reasons)}",
    )


def is_watched(facilitators_connected: bool | Callable[[], bool]) -> bool:
    """The room's answer to "is a facilitator watching?", which callers may
    pass as a callable so it is looked up only when an alert is raised."""
    if callable(facilitators_connected):
        return facilitators_connected()
    return facilitators_connected


@transaction.atomic
def alert_facilitators(
    *,
    group: SupportGroup,
    subject: Any,
    tier: str,
    reasons: Iterable[str] = (),
    facilitators_connected: bool,
    meeting: Meeting | None = None,
    source: str = "chat",
    held: HeldMessage | None = None,
    defer_emails: bool = False,
) -> SafetyAlert:
    """Raise a private alert for the group's facilitators.

    Repeats (same person, tier, session and source, unacknowledged, within
    five minutes) bump the existing alert's count; an imminent alert is always
    new. When the tier is imminent and `facilitators_connected` is False
    (the room computes it), an email to each of the group's facilitators
    and settings.HEARTH_SAFETY_CONTACTS is written to the outbox with the
    alert and dispatched after commit (`dispatch_alert_emails`: Celery, or
    a thread when the broker is down). With `defer_emails` the caller
    dispatches instead, once its own reply has left (the room does).
    `hooks.alert_raised` fires either way.
    """
    if tier not in AlertTier.values:
        raise ValidationError("Unknown alert tier.")
    reason_list = [str(r)[:64] for r in reasons][:20]
    now = timezone.now()
    alert = None
    if tier != AlertTier.IMMINENT:
        alert = (
            SafetyAlert.objects.select_for_update()
            .filter(
                group=group,
                meeting=meeting,
                subject=subject,
                tier=tier,
                source=source,  # a member's own request stays its own alert
                acknowledged_at__isnull=True,
                last_seen_at__gte=now - REPEAT_WINDOW,
            )
            .order_by("-last_seen_at")
            .first()
        )
    created = alert is None
    if alert is None:
        alert = SafetyAlert.objects.create(
            group=group,
            meeting=meeting,
            subject=subject,
            tier=tier,
            reasons=reason_list,
            source=source,
            held=held,
        )
    else:
        return bump_alert(alert, reasons=reason_list, now=now)
    audit(
        None,
        "alert.raise",
        target=alert,
        group=group,
        reason=f"{tier}: {','.join(reason_list)}",
    )
    if emails_due(tier, facilitators_connected=facilitators_connected):
        queue_alert_emails(alert, kind=AlertDelivery.Kind.ALERT)
        if not defer_emails:
            alert_id = alert.pk
            transaction.on_commit(lambda: dispatch_alert_emails(alert_id=alert_id))
    hooks.alert_raised.send(sender=SafetyAlert, alert=alert, created=created)
    return alert


def bump_alert(
    alert: SafetyAlert, *, reasons: Iterable[str] = (), now: dt.datetime | None = None
) -> SafetyAlert:
    """Count a repeat on an existing alert (no new alert, no email) and push
    the new count to the facilitators' sockets."""
    reason_list = [str(r)[:64] for r in reasons][:20]
    alert.count += 1
    alert.last_seen_at = now or timezone.now()
    alert.reasons = sorted(set(alert.reasons) | set(reason_list))[:20]
    alert.save(update_fields=["count", "last_seen_at", "reasons", "severity"])
    audit(
        None,
        "alert.repeat",
        target=alert,
        group=alert.group_id,
        reason=f"{alert.tier}: {','.join(reason_list)}",
    )
    hooks.alert_raised.send(sender=SafetyAlert, alert=alert, created=False)
    return alert


@transaction.atomic
def acknowledge_alert(*, alert_id: int, by: Any) -> SafetyAlert:
    """A facilitator of the group (or staff) has seen the alert and is
    following up. 404 for anyone else; acknowledging twice is a no-op."""
    alert = SafetyAlert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise ValidationError("No such alert.")
    require_moderator(by, alert.group_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = by
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit(by, "alert.acknowledge", target=alert, group=alert.group_id)
        hooks.alert_acknowledged.send(sender=SafetyAlert, alert=alert, by=by)
    return alert


def escalate_unacknowledged(*, now: dt.datetime | None = None) -> int:
    """Email the facilitators and safety contacts about urgent alerts left
    unacknowledged for HEARTH_SAFETY_ESCALATE_MINUTES (5), once each. Run it
    every minute (safety.tasks.escalate_alerts). Returns how many alerts."""
    now = now or timezone.now()
    due = SafetyAlert.objects.filter(
        acknowledged_at__isnull=True,
        escalated_at__isnull=True,
        tier__in=[AlertTier.IMMINENT, AlertTier.METHOD],
        created_at__lte=now - _escalate_after(),
    ).values_list("pk", flat=True)
    count = 0
    for alert_id in list(due[:100]):
        if send_alert_emails(alert_id=alert_id, escalation=True):
            count += 1
    return count
