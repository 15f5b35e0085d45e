"""Session plans: ordered agendas of pinned prompt versions."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Sum
from django.urls import reverse

from prompts.models.library import PromptVersion


class SessionPlan(models.Model):
    """An agenda. A plan with a group is shared with that group's facilitators;
    a template is offered to every facilitator to copy."""

    key = models.SlugField(
        max_length=80,
        unique=True,
        null=True,
        blank=True,
        help_text="Stable key for plans shipped with Hearth.",
    )
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="session_plans",
    )
    group = models.ForeignKey(
        "groups.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="session_plans",
        help_text="Its facilitators may see and edit the plan.",
    )
    is_template = models.BooleanField(
        "reusable template",
        default=False,
        help_text="Offer this plan to every facilitator to copy.",
    )
    copied_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("prompts:plan_detail", args=[self.pk])

    def total_minutes(self) -> int:
        return self.items.aggregate(total=Sum("minutes"))["total"] or 0


class PlanItem(models.Model):
    plan = models.ForeignKey(
        SessionPlan, on_delete=models.CASCADE, related_name="items"
    )
    position = models.PositiveIntegerField(default=0)
    # PROTECT: a used version must outlive every plan that names it.
    version = models.ForeignKey(
        PromptVersion, on_delete=models.PROTECT, related_name="plan_items"
    )
    minutes = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(240)]
    )

    class Meta:
        ordering = ["plan", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.position}. {self.version_id} ({self.minutes} min)"


class PlanAssignment(models.Model):
    """A plan attached to one meeting or to a whole series (exactly one)."""

    plan = models.ForeignKey(
        SessionPlan, on_delete=models.CASCADE, related_name="assignments"
    )
    meeting = models.OneToOneField(
        "groups.Meeting",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="plan_assignment",
    )
    series = models.OneToOneField(
        "groups.MeetingSeries",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="plan_assignment",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["assigned_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(meeting__isnull=False, series__isnull=True)
                    | Q(meeting__isnull=True, series__isnull=False)
                ),
                name="plan_for_meeting_or_series",
            )
        ]

    def __str__(self) -> str:
        target = f"meeting {self.meeting_id}" if self.meeting_id else "series"
        return f"plan {self.plan_id} → {target}"

    @property
    def target(self) -> models.Model:
        return self.meeting or self.series  # type: ignore[return-value]

    @property
    def duration_minutes(self) -> int:
        return self.target.duration_minutes  # type: ignore[attr-defined]
