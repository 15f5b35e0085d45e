"""Reports, held messages, safety alerts, mutes and each group's policy.

No model here stores a room event's text except `HeldMessage`, and only
while it waits for a decision.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

_USER = settings.AUTH_USER_MODEL


class AlertTier(models.TextChoices):
    IMMINENT = "imminent", "Imminent risk"
    METHOD = "method", "Method detail"
    THIRD_PARTY = "third_party", "Someone else at risk"
    CONCERN = "concern", "Concern"
    FLAG = "flag", "Word filter flag"


# Higher first in every queue. Third party with a time or plan ranks just
# below imminent (someone may need help tonight).
SEVERITY = {
    AlertTier.IMMINENT: 50,
    AlertTier.METHOD: 40,
    AlertTier.THIRD_PARTY: 30,
    AlertTier.CONCERN: 20,
    AlertTier.FLAG: 10,
}
URGENT_THIRD_PARTY = 45


def severity_of(tier: str, reasons: list[str] | tuple[str, ...] = ()) -> int:
    if tier == AlertTier.THIRD_PARTY and "third_party.urgent" in reasons:
        return URGENT_THIRD_PARTY
    return SEVERITY.get(AlertTier(tier), 0) if tier in AlertTier.values else 0


class Source(models.TextChoices):
    CHAT = "chat", "Chat message"
    REFLECTION = "reflection", "Reflection"
    # The member asked: "I'd like support" or "I'm not safe right now".
    MEMBER = "member", "The member asked for help"


class GroupSafetyPolicy(models.Model):
    """Per-group choices the policy leaves to groups (docs/safety.md, "Tiers")."""

    class ConcernAction(models.TextChoices):
        DELIVER = "deliver", "Deliver the message"
        NOTE = "note", "Deliver it behind a content note"
        HOLD = "hold", "Hold it for review"

    group = models.OneToOneField(
        "groups.SupportGroup", on_delete=models.CASCADE, related_name="safety_policy"
    )
    concern_action = models.CharField(
        max_length=8,
        choices=ConcernAction.choices,
        default=ConcernAction.DELIVER,
        help_text="What happens to concern-tier and third-party messages. "
        "Method and imminent messages are always held.",
    )

    class Meta:
        verbose_name_plural = "group safety policies"

    def __str__(self) -> str:
        return f"policy of {self.group_id}: {self.concern_action}"


class Report(models.Model):
    class Reason(models.TextChoices):
        HARASSMENT = "harassment", "Harassment or a personal attack"
        HATE = "hate", "Hateful language"
        RISK = "risk", "Someone may be at risk"
        HARMFUL = "harmful", "Harmful detail (methods, graphic content)"
        PRIVACY = "privacy", "Shares someone's private information"
        SPAM = "spam", "Spam or advertising"
        OTHER = "other", "Something else"

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for a facilitator"
        RESOLVED = "resolved", "Reviewed"

    class Outcome(models.TextChoices):
        NO_ACTION = "no_action", "Reviewed; no action was needed"
        HIDDEN = "hidden", "The message was hidden"
        MUTED = "muted", "The member was muted for a while"
        REMOVED = "removed", "The member was removed"
        SUPPORTED = "supported", "A facilitator reached out to offer support"
        OTHER = "other", "A facilitator followed up"

    reporter = models.ForeignKey(
        _USER, null=True, on_delete=models.SET_NULL, related_name="safety_reports"
    )
    group = models.ForeignKey(
        "groups.SupportGroup", on_delete=models.CASCADE, related_name="reports"
    )
    meeting = models.ForeignKey(
        "groups.Meeting",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
    )
    # The room event (facilitation.RoomEvent) reported: an id, not a key,
    # because safety sits below facilitation.
    event_id = models.PositiveBigIntegerField(db_index=True)
    author = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=12, choices=Reason.choices)
    note = models.TextField(
        max_length=500, blank=True, help_text="Optional detail from the reporter."
    )
    weight = models.FloatField(default=1.0)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["reporter", "event_id"],
                condition=Q(reporter__isnull=False),
                name="one_report_per_event",
            )
        ]

    def __str__(self) -> str:
        return f"report {self.pk} on event {self.event_id} ({self.status})"

    @property
    def severity(self) -> int:
        return SEVERITY[AlertTier.CONCERN] if self.reason == "risk" else 15


class HeldMessage(models.Model):
    """The restricted store for a held room message. Its text lives here,
    and only here, until a facilitator decides; the decision clears it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPROVED = "approved", "Approved and shown"
        REJECTED = "rejected", "Not shown"
        EXPIRED = "expired", "Expired"

    group = models.ForeignKey(
        "groups.SupportGroup", on_delete=models.CASCADE, related_name="held_messages"
    )
    meeting = models.ForeignKey(
        "groups.Meeting",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="held_messages",
    )
    author = models.ForeignKey(_USER, on_delete=models.CASCADE, related_name="+")
    text = models.TextField(blank=True)
    client_msg_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, default="chat")
    tier = models.CharField(max_length=12, default="none")
    reasons = models.JSONField(default=list, blank=True)
    filter_rule_ids = models.JSONField(default=list, blank=True)
    severity = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-severity", "created_at", "pk"]
        indexes = [models.Index(fields=["group", "status"])]

    def __str__(self) -> str:
        return f"held {self.pk} in {self.group_id} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class SafetyAlert(models.Model):
    """A private alert to a group's facilitators. Repeats of the same tier
    from the same person within a few minutes add to `count` instead of
    raising new alerts; an imminent one is always new."""

    group = models.ForeignKey(
        "groups.SupportGroup", on_delete=models.CASCADE, related_name="safety_alerts"
    )
    meeting = models.ForeignKey(
        "groups.Meeting",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="safety_alerts",
    )
    subject = models.ForeignKey(_USER, on_delete=models.CASCADE, related_name="+")
    tier = models.CharField(max_length=12, choices=AlertTier.choices)
    severity = models.PositiveSmallIntegerField(default=0, db_index=True)
    reasons = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, default="chat")
    held = models.ForeignKey(
        HeldMessage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    count = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    acknowledged_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-severity", "created_at", "pk"]
        indexes = [models.Index(fields=["group", "acknowledged_at"])]

    def __str__(self) -> str:
        return f"{self.tier} alert {self.pk} in {self.group_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.severity = severity_of(self.tier, self.reasons or [])
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def is_urgent(self) -> bool:
        return self.severity >= SEVERITY[AlertTier.METHOD]


class MuteQuerySet(models.QuerySet["Mute"]):
    def in_force(self) -> MuteQuerySet:
        return self.filter(until__gt=timezone.now(), lifted_at__isnull=True)


class Mute(models.Model):
    group = models.ForeignKey(
        "groups.SupportGroup", on_delete=models.CASCADE, related_name="mutes"
    )
    user = models.ForeignKey(_USER, on_delete=models.CASCADE, related_name="+")
    until = models.DateTimeField()
    by = models.ForeignKey(
        _USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Empty when the strike ladder muted automatically.",
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = MuteQuerySet.as_manager()

    class Meta:
        ordering = ["-until", "pk"]
        indexes = [models.Index(fields=["group", "user", "until"])]

    def __str__(self) -> str:
        return (
            f"{self.user_id} muted in {self.group_id} until {self.until:%Y-%m-%d %H:%M}"
        )


class AlertDelivery(models.Model):
    """One email of one alert to one address: the outbox row that makes the
    send safe to repeat (docs/safety.md, Alert delivery). It is written
    with the alert, so a crash before the send loses nothing; `sent_at` is
    set once, and a claim keeps two senders off the same row."""

    class Kind(models.TextChoices):
        ALERT = "alert", "At once (nobody in the room)"
        ESCALATION = "escalation", "Still unacknowledged"

    alert = models.ForeignKey(
        SafetyAlert, on_delete=models.CASCADE, related_name="deliveries"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    address = models.EmailField()
    zone = models.CharField(max_length=64, default="UTC")  # the recipient's
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    tried_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The exception's class name only: SMTP replies can echo addresses.
    last_error = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["alert", "kind", "address"]
        verbose_name_plural = "alert deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "kind", "address"], name="one_delivery_per_address"
            )
        ]
        indexes = [models.Index(fields=["sent_at", "tried_at"])]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else f"pending ({self.attempts} tries)"
        return f"{self.kind} email of alert {self.alert_id}: {state}"
