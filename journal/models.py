"""Reflections: what a member writes after a session, for themselves first.

Private by default. A member may share one with the group's facilitators,
anonymously or under their name, and may withdraw that at any time.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from groups.models import Meeting

ANSWER_MAX_CHARS = 2000


class Sharing(models.TextChoices):
    PRIVATE = "private", "Only me"
    ANONYMOUS = "anonymous", "My facilitators, without my name"
    NAMED = "named", "My facilitators, with my display name"


class ReflectionQuerySet(models.QuerySet["Reflection"]):
    def of(self, user: Any) -> ReflectionQuerySet:
        return self.filter(author=user)

    def shared(self) -> ReflectionQuerySet:
        return self.exclude(sharing=Sharing.PRIVATE)


class Reflection(models.Model):
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reflections"
    )
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="reflections"
    )
    # [{"prompt": "…", "version_id": 12 | null, "text": "…"}]: the prompt's
    # words are kept so the journal reads the same if the library changes.
    answers = models.JSONField(default=list)
    sharing = models.CharField(
        max_length=10, choices=Sharing.choices, default=Sharing.PRIVATE
    )
    shared_at = models.DateTimeField(null=True, blank=True)
    # The screener's tier when it exists ("" when nothing was found or no
    # screener is installed); the reasons are not stored.
    screening_tier = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReflectionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "meeting"], name="one_reflection_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"reflection {self.pk} by {self.author_id} on {self.meeting_id}"

    @property
    def is_shared(self) -> bool:
        return self.sharing != Sharing.PRIVATE

    def answered(self) -> list[dict[str, Any]]:
        return [a for a in self.answers if str(a.get("text", "")).strip()]
