"""Support groups, memberships, invitations and the schedule.

Times are stored in UTC; every meeting also keeps the zone it was scheduled
in so that a series stays at the same local hour across DST changes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from accounts.models import validate_timezone
from accounts.validators import validate_display_name


class Topic(models.TextChoices):
    HYPER_INDEPENDENCE = "hyper-independence", "Hyper-independence"
    BURNOUT = "burnout", "Burnout and rest"
    ASKING_FOR_HELP = "asking-for-help", "Asking for help"
    TRUST = "trust", "Trust and relationships"
    CAREGIVING = "caregiving", "Carers and caregiving"
    GRIEF = "grief", "Grief and loss"
    ANXIETY = "anxiety", "Anxiety"
    GENERAL = "general", "General peer support"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Listed in the public directory"
    INVITE = "invite", "Invite-only (hidden from non-members)"


class Role(models.TextChoices):
    MEMBER = "member", "Member"
    COFACILITATOR = "cofacilitator", "Co-facilitator"
    FACILITATOR = "facilitator", "Facilitator"


FACILITATING_ROLES = (Role.FACILITATOR, Role.COFACILITATOR)


class SupportGroupQuerySet(models.QuerySet["SupportGroup"]):
    def active(self) -> SupportGroupQuerySet:
        return self.filter(archived_at__isnull=True)

    def public(self) -> SupportGroupQuerySet:
        return self.active().filter(visibility=Visibility.PUBLIC)

    def visible_to(self, user: Any) -> SupportGroupQuerySet:
        """Public groups, plus any group the user belongs to; staff see all."""
        if user is not None and user.is_authenticated and user.is_staff:
            return self.all()
        public = Q(visibility=Visibility.PUBLIC, archived_at__isnull=True)
        if user is None or not user.is_authenticated:
            return self.filter(public)
        return self.filter(public | Q(memberships__user=user)).distinct()

    def of_member(self, user: Any) -> SupportGroupQuerySet:
        return self.filter(memberships__user=user)


class SupportGroup(models.Model):
    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=90, unique=True)
    description = models.TextField(max_length=2000)
    topic = models.CharField(
        max_length=32, choices=Topic.choices, default=Topic.GENERAL
    )
    guidelines = models.TextField(
        max_length=10000,
        help_text="How this group looks after each other. Members see it before joining.",
    )
    capacity = models.PositiveSmallIntegerField(
        default=12,
        validators=[MinValueValidator(2), MaxValueValidator(500)],
        help_text="Most members the group takes (facilitators not counted).",
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    region = CountryField(
        blank=True,
        blank_label="Anywhere (online)",
        help_text="Where members are based.",
    )
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="Sessions are scheduled in this zone.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = SupportGroupQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        permissions = [("create_group", "Can create and facilitate support groups")]
        indexes = [
            models.Index(fields=["visibility", "topic"]),
            # The directory's order, a page at a time.
            models.Index(
                fields=["name", "id"],
                condition=Q(visibility="public", archived_at__isnull=True),
                name="directory_by_name",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("groups:detail", args=[self.slug])

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC and self.archived_at is None

    def membership_of(self, user: Any) -> Membership | None:
        if user is None or not user.is_authenticated:
            return None
        return self.memberships.filter(user=user).first()

    def member_count(self) -> int:
        return self.memberships.filter(role=Role.MEMBER).count()


class Membership(models.Model):
    group = models.ForeignKey(
        SupportGroup, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    display_name = models.CharField(
        max_length=40,
        blank=True,
        validators=[validate_display_name],
        help_text="Optional: a different name for this group only.",
    )
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["joined_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="one_membership")
        ]

    def __str__(self) -> str:
        return f"{self.shown_name} in {self.group_id} ({self.role})"

    @property
    def shown_name(self) -> str:
        return self.display_name or self.user.display_name

    @property
    def facilitates(self) -> bool:
        return self.role in FACILITATING_ROLES

    @property
    def leads(self) -> bool:
        return self.role == Role.FACILITATOR


class JoinRequest(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a facilitator"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    group = models.ForeignKey(
        SupportGroup, on_delete=models.CASCADE, related_name="join_requests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests"
    )
    message = models.TextField(
        max_length=500,
        blank=True,
        help_text="Optional: anything you'd like the facilitators to know.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"],
                condition=Q(status="pending"),
                name="one_pending_request",
            )
        ]

    def __str__(self) -> str:
        return f"request {self.pk} to {self.group_id} ({self.status})"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def usable(self) -> InvitationQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now).filter(
            Q(max_uses__isnull=True) | Q(use_count__lt=models.F("max_uses"))
        )


class Invitation(models.Model):
    """An invitation link. Only a hash of its token is stored."""

    group = models.ForeignKey(
        SupportGroup, on_delete=models.CASCADE, related_name="invitations"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    label = models.CharField(
        max_length=80,
        blank=True,
        help_text="A note for facilitators, e.g. who it's for.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    max_uses = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Empty for a link anyone may use until it expires.",
    )
    use_count = models.PositiveIntegerField(default=0)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]

    def __str__(self) -> str:
        return f"invitation {self.pk} to {self.group_id}"

    @property
    def is_usable(self) -> bool:
        return (
            self.revoked_at is None
            and self.expires_at > timezone.now()
            and (self.max_uses is None or self.use_count < self.max_uses)
        )

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        if self.max_uses is not None and self.use_count >= self.max_uses:
            return "used up"
        return "active"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Every week"
    FORTNIGHTLY = "fortnightly", "Every two weeks"
    MONTHLY = "monthly", "Monthly, on the n-th weekday"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WeekOfMonth(models.IntegerChoices):
    FIRST = 1, "First"
    SECOND = 2, "Second"
    THIRD = 3, "Third"
    FOURTH = 4, "Fourth"
    LAST = -1, "Last"


class MeetingSeries(models.Model):
    """A recurring session. Occurrences are stored as Meetings up to a horizon
    that a periodic task moves forward."""

    group = models.ForeignKey(
        SupportGroup, on_delete=models.CASCADE, related_name="series"
    )
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    frequency = models.CharField(max_length=12, choices=Frequency.choices)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    week_of_month = models.SmallIntegerField(
        choices=WeekOfMonth.choices, null=True, blank=True
    )
    local_time = models.TimeField()
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(15), MaxValueValidator(240)]
    )
    capacity = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    generated_until = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "meeting series"
        ordering = ["group", "weekday", "local_time"]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_frequency_display()})"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def describe(self) -> str:
        day = Weekday(self.weekday).label
        at = self.local_time.strftime("%H:%M")
        if self.frequency == Frequency.MONTHLY and self.week_of_month is not None:
            nth = WeekOfMonth(self.week_of_month).label.lower()
            return f"The {nth} {day} of each month at {at} ({self.timezone})"
        every = "Every" if self.frequency == Frequency.WEEKLY else "Every other"
        return f"{every} {day} at {at} ({self.timezone})"


class MeetingQuerySet(models.QuerySet["Meeting"]):
    def upcoming(self) -> MeetingQuerySet:
        return self.filter(
            ends_at__gt=timezone.now(), status=Meeting.Status.SCHEDULED
        ).order_by("starts_at", "pk")

    def visible_to(self, user: Any) -> MeetingQuerySet:
        return self.filter(group__in=SupportGroup.objects.visible_to(user))


class Meeting(models.Model):
    """One scheduled session of a group (a one-off, or one occurrence of a series)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"

    group = models.ForeignKey(
        SupportGroup, on_delete=models.CASCADE, related_name="meetings"
    )
    series = models.ForeignKey(
        MeetingSeries,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings",
    )
    # The date this occurrence had in its series pattern; stays put when the
    # occurrence alone is moved, so the series never regenerates it.
    occurrence_date = models.DateField(null=True, blank=True)
    detached = models.BooleanField(
        default=False, help_text="Edited on its own; series edits leave it alone."
    )
    title = models.CharField(max_length=120)
    description = models.TextField(
        max_length=2000, blank=True, help_text="A note from the facilitators."
    )
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(editable=False)
    duration_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(15), MaxValueValidator(240)]
    )
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    capacity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text="Seats for members; empty uses the group's capacity.",
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.SCHEDULED
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    sequence = models.PositiveIntegerField(
        default=0, help_text="Bumped on every change; calendar apps use it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "occurrence_date"],
                condition=Q(series__isnull=False),
                name="one_occurrence_per_date",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} at {self.starts_at:%Y-%m-%d %H:%M}Z"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.ends_at = self.starts_at + dt.timedelta(minutes=self.duration_minutes)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "starts_at" in update_fields:
            kwargs["update_fields"] = {*update_fields, "ends_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("groups:meeting", args=[self.pk])

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def local_start(self) -> dt.datetime:
        return self.starts_at.astimezone(self.zone)

    @property
    def seats(self) -> int:
        return self.capacity or self.group.capacity

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def is_past(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def uid(self) -> str:
        return f"meeting-{self.pk}@hearth"


class RSVP(models.Model):
    class Status(models.TextChoices):
        GOING = "going", "Going"
        NOT_GOING = "not_going", "Not going"
        WAITLISTED = "waitlisted", "On the waitlist"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="rsvps")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rsvps"
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    # Facilitators never wait for a seat and never take one.
    takes_seat = models.BooleanField(default=True)
    responded_at = models.DateTimeField(default=timezone.now)
    waitlisted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "RSVP"
        ordering = ["responded_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="one_rsvp")
        ]
        indexes = [models.Index(fields=["meeting", "status"])]

    def __str__(self) -> str:
        return f"rsvp {self.user_id} → {self.meeting_id}: {self.status}"
