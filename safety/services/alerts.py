"""Safety alerts to facilitators, emails when nobody is there, escalation."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.emails import absolute, send_templated
from groups.models import FACILITATING_ROLES, Meeting, Membership, SupportGroup
from safety import hooks
from safety.models import AlertTier, HeldMessage, SafetyAlert
from safety.screening import Result

from .access import require_moderator
from .audit import audit

log = logging.getLogger(__name__)

REPEAT_WINDOW = dt.timedelta(minutes=5)


def _escalate_after() -> dt.timedelta:
    return dt.timedelta(
        minutes=int(getattr(settings, "HEARTH_SAFETY_ESCALATE_MINUTES", 5))
    )


def safety_contacts() -> list[str]:
    contacts = getattr(settings, "HEARTH_SAFETY_CONTACTS", []) or []
    return [str(c).strip() for c in contacts if str(c).strip()]


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
) -> SafetyAlert:
    """Raise a private alert for the group's facilitators.

    Repeats (same person, tier, session and source, unacknowledged, within
    five minutes) bump the existing alert's count; an imminent alert is always
    new. When the tier is imminent and `facilitators_connected` is False
    (the room computes it), the group's facilitators and
    settings.HEARTH_SAFETY_CONTACTS are emailed right after commit, without
    Celery. `hooks.alert_raised` fires either way.
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
    if tier == AlertTier.IMMINENT and not facilitators_connected:
        alert_id = alert.pk
        transaction.on_commit(lambda: send_alert_emails(alert_id=alert_id))
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


def _recipients(alert: SafetyAlert) -> list[tuple[str, str]]:
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


def send_alert_emails(*, alert_id: int, escalation: bool = False) -> int:
    """Email an alert to each recipient separately (no shared To: line).
    Contains no message text: who to check on, the tier, and a link to the
    queue. Safe to call again: a duplicate email beats a lost one."""
    alert = (
        SafetyAlert.objects.select_related("group", "subject")
        .filter(pk=alert_id)
        .first()
    )
    if alert is None or (escalation and alert.acknowledged_at is not None):
        return 0
    sent = 0
    queue_url = absolute(reverse("safety:queue"))
    for address, zone in _recipients(alert):
        try:
            sent += send_templated(
                to=[address],
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
                    "queue_url": queue_url,
                    "support_url": absolute(reverse("safety:support")),
                    "escalation": escalation,
                },
                recipient_timezone=zone,
            )
        except Exception:
            log.exception("safety alert email failed alert=%s", alert.pk)
    if sent:
        field = "escalated_at" if escalation else "emailed_at"
        SafetyAlert.objects.filter(pk=alert.pk).update(**{field: timezone.now()})
        audit(
            None,
            "alert.escalate" if escalation else "alert.email",
            target=alert,
            group=alert.group_id,
            reason=f"{sent} recipients",
        )
    return sent


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
