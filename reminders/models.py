"""Deliveries (one row per email we mean to send) and who wants what.

A delivery is recorded under a uniqueness constraint before anything is
sent; the row, not the broker, is the source of truth. Its state only moves
forward: pending → sending → sent, or to cancelled / skipped / failed.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from groups.models import Meeting, SupportGroup


def default_offsets() -> list[int]:
    return list(settings.HEARTH["REMINDER_OFFSETS_MINUTES"])


class GroupReminderOptions(models.Model):
    """A group's choices about reminders and follow-ups (defaults apply
    while no row exists)."""

    group = models.OneToOneField(
        SupportGroup, on_delete=models.CASCADE, related_name="reminder_options"
    )
    offsets_minutes = models.JSONField(
        default=default_offsets,
        help_text="Minutes before a session to send reminders, e.g. [1440, 60].",
    )
    remind_unanswered = models.BooleanField(
        default=True,
        help_text="Also remind members who have not answered yet.",
    )
    missed_follow_up = models.BooleanField(
        default=True,
        help_text="Send one kind note to members who said they'd come and didn't.",
    )

    class Meta:
        verbose_name = "group reminder options"
        verbose_name_plural = "group reminder options"

    def __str__(self) -> str:
        return f"reminder options of group {self.group_id}"

    def clean_offsets(self) -> list[int]:
        """Whole minutes between 5 minutes and 7 days, largest first."""
        found = {
            int(m)
            for m in self.offsets_minutes or []
            if isinstance(m, int | float) and 5 <= int(m) <= 7 * 24 * 60
        }
        return sorted(found, reverse=True)


class Family(models.TextChoices):
    """Which preference an email falls under (accounts.User has one switch
    per family; members may also opt out of one family for one group)."""

    REMINDERS = "reminders", "Session reminders"
    UPDATES = "updates", "Schedule changes and follow-ups"
    REFLECTIONS = "reflections", "Reflection invitations"


class MemberPreferences(models.Model):
    """Quiet hours, in the member's own time zone (none by default)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reminder_preferences",
    )
    quiet_start = models.TimeField(
        null=True, blank=True, help_text="From this time (your time zone)…"
    )
    quiet_end = models.TimeField(
        null=True, blank=True, help_text="…until this time, emails wait."
    )

    class Meta:
        verbose_name_plural = "member preferences"

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"

    @property
    def has_quiet_hours(self) -> bool:
        return (
            self.quiet_start is not None
            and self.quiet_end is not None
            and self.quiet_start != self.quiet_end
        )


class GroupOptOut(models.Model):
    """A member does not want one family of emails from one group."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(SupportGroup, on_delete=models.CASCADE, related_name="+")
    family = models.CharField(max_length=12, choices=Family.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "group", "family"], name="one_opt_out"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} opted out of {self.family} from {self.group_id}"


class Kind(models.TextChoices):
    REMINDER = "reminder", "Reminder"
    UPDATE = "update", "Time changed"
    CANCELLATION = "cancellation", "Cancelled"
    REFLECTION = "reflection", "Reflection invitation"
    SUMMARY = "summary", "Facilitator summary"
    MISSED = "missed", "Missed-session note"


FAMILY_OF_KIND = {
    Kind.REMINDER: Family.REMINDERS,
    Kind.UPDATE: Family.UPDATES,
    Kind.CANCELLATION: Family.UPDATES,
    Kind.MISSED: Family.UPDATES,
    Kind.SUMMARY: Family.UPDATES,
    Kind.REFLECTION: Family.REFLECTIONS,
}


class State(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"
    SKIPPED = "skipped", "Skipped"


OPEN_STATES = (State.PENDING, State.SENDING)


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    def open(self) -> DeliveryQuerySet:
        return self.filter(state__in=OPEN_STATES)


class Delivery(models.Model):
    """One email to one person about one session.

    `offset_minutes` tells a session's reminders apart; `sequence` is the
    session's revision it was recorded for, so a moved session gets fresh
    rows while the old ones are cancelled at send time."""

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="deliveries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    offset_minutes = models.PositiveIntegerField(default=0)
    sequence = models.PositiveIntegerField(default=0)
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.PENDING
    )
    # Why it was cancelled or skipped (a short code, never personal data).
    reason = models.CharField(max_length=40, blank=True)
    due_at = models.DateTimeField()
    send_after = models.DateTimeField(db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The exception's class name only: messages may hold addresses.
    last_error = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "user", "kind", "offset_minutes", "sequence"],
                name="one_delivery",
            )
        ]
        indexes = [
            models.Index(
                fields=["state", "send_after"],
                name="open_delivery",
                condition=Q(state__in=["pending", "sending"]),
            ),
            models.Index(fields=["meeting", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id} about {self.meeting_id} ({self.state})"

    @property
    def message_id(self) -> str:
        """Stable across attempts: the same email is recognisably the same."""
        return f"<delivery-{self.pk}.{self.kind}@hearth>"

    @property
    def family(self) -> str:
        return str(FAMILY_OF_KIND[Kind(self.kind)])


class MeetingWatch(models.Model):
    """The last revision of a session the sweep has seen, so that a change
    (new time, cancellation) is noticed once and announced once."""

    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, related_name="reminder_watch"
    )
    sequence = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)
    # "revision:offset" of every reminder step already recorded, so each
    # minute's sweep skips them without touching the deliveries table.
    recorded = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"watch of {self.meeting_id} at revision {self.sequence}"


class WrapUp(models.Model):
    """What the sweep has done after a session ended: invitations recorded,
    summary recorded. One row per session, written once per step."""

    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, related_name="reminder_wrap_up"
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    summarised_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"wrap-up of {self.meeting_id}"


def minutes(value: int) -> dt.timedelta:
    return dt.timedelta(minutes=value)
