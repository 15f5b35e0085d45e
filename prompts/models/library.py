"""Prompts: a stable identity (`Prompt`) and its immutable versions.

A version's content is frozen once it has been published: editing a
published prompt makes a new version, so session plans and past sessions
keep exactly the words they used. Drafts and versions sent back for changes
were never usable, so their author may still edit them in place.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    RegexValidator,
)
from django.db import models
from django.db.models import Q
from django.urls import reverse

validate_language = RegexValidator(
    r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
    "Use a language tag such as “en” or “pt-BR”.",
)


class Kind(models.TextChoices):
    CHECK_IN = "check-in", "Check-in"
    OPENING = "opening", "Opening"
    DISCUSSION = "discussion", "Discussion"
    GROUNDING = "grounding", "Grounding exercise"
    CLOSING = "closing", "Closing"
    REFLECTION = "reflection", "Reflection"


class Intensity(models.TextChoices):
    GENTLE = "gentle", "Gentle"
    MODERATE = "moderate", "Moderate"
    DEEP = "deep", "Deep"


class Theme(models.Model):
    """A topic prompts are filed under. Seeded by a data migration."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Prompt(models.Model):
    """The identity of a prompt across its versions."""

    slug = models.SlugField(
        max_length=80, unique=True, help_text="Stable key used by import and export."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="authored_prompts",
    )
    credit = models.CharField(
        max_length=120,
        blank=True,
        help_text="Shown as the author line, e.g. “Hearth starter library”.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        permissions = [("curate_prompt", "Can review, publish and retire prompts")]

    def __str__(self) -> str:
        return self.slug

    def get_absolute_url(self) -> str:
        return reverse("prompts:detail", args=[self.pk])


class PromptVersionQuerySet(models.QuerySet["PromptVersion"]):
    def published(self) -> PromptVersionQuerySet:
        return self.filter(status=PromptVersion.Status.PUBLISHED)

    def in_review(self) -> PromptVersionQuerySet:
        return self.filter(status=PromptVersion.Status.SUBMITTED)

    def for_listing(self) -> PromptVersionQuerySet:
        """Everything a list row shows, in a fixed number of queries."""
        return self.select_related("prompt__author", "author").prefetch_related(
            "themes"
        )


class PromptVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Waiting for review"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        PUBLISHED = "published", "Published"
        SUPERSEDED = "superseded", "Replaced by a newer version"
        RETIRED = "retired", "Retired"

    # Fields a frozen (once published) version may still change.
    WORKFLOW_FIELDS = frozenset(
        {"status", "reviewed_by", "reviewed_at", "published_at", "submitted_at"}
    )
    EDITABLE_STATUSES = (Status.DRAFT, Status.CHANGES_REQUESTED)

    prompt = models.ForeignKey(
        Prompt, on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=120)
    text = models.TextField(
        max_length=4000,
        help_text="A small Markdown subset: blank lines, *emphasis*, **strong**, "
        "lists starting with “- ” or “1. ”, and [links](https://…).",
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    themes = models.ManyToManyField(Theme, related_name="versions")
    intensity = models.CharField(
        max_length=10, choices=Intensity.choices, default=Intensity.GENTLE
    )
    content_note = models.CharField(
        max_length=300,
        blank=True,
        help_text="Shown before the prompt is used, so people can choose to pass.",
    )
    suggested_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )
    follow_up_questions = models.JSONField(default=list, blank=True)
    language = models.CharField(
        max_length=16, default="en", validators=[validate_language]
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="prompt_versions",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(null=True, blank=True)

    objects = PromptVersionQuerySet.as_manager()

    class Meta:
        ordering = ["prompt", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["prompt", "number"], name="version_number"),
            models.UniqueConstraint(
                fields=["prompt"],
                condition=Q(status="published"),
                name="one_published_version",
            ),
        ]
        indexes = [
            # The library's order, read a page at a time without sorting all
            # published versions (partial, so the planner picks it even
            # before the table has statistics).
            models.Index(
                fields=["title", "id"],
                condition=Q(status="published"),
                name="published_by_title",
            ),
            models.Index(fields=["status", "kind"]),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.number})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and self.is_frozen:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.WORKFLOW_FIELDS:
                raise ValueError("A published version is immutable; make a new one.")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("prompts:detail", args=[self.prompt_id])

    @property
    def is_frozen(self) -> bool:
        return self.published_at is not None

    @property
    def is_editable(self) -> bool:
        return not self.is_frozen and self.status in self.EDITABLE_STATUSES

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class ReviewComment(models.Model):
    """A step in a version's review, with the curator's words to the author."""

    class Action(models.TextChoices):
        SUBMITTED = "submitted", "Submitted for review"
        CHANGES_REQUESTED = "changes_requested", "Asked for changes"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    version = models.ForeignKey(
        PromptVersion, on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    body = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} on version {self.version_id}"


class PromptRating(models.Model):
    """How helpful a member found a prompt in one session (collected later)."""

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    version = models.ForeignKey(
        PromptVersion, on_delete=models.CASCADE, related_name="ratings"
    )
    meeting = models.ForeignKey(
        "groups.Meeting", on_delete=models.CASCADE, related_name="prompt_ratings"
    )
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "version", "meeting"], name="one_rating"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5), name="rating_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.score}/5 for version {self.version_id}"
