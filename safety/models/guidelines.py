"""Versioned group guidelines and who accepted which version."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class GuidelinesVersion(models.Model):
    group = models.ForeignKey(
        "groups.SupportGroup",
        on_delete=models.CASCADE,
        related_name="guidelines_versions",
    )
    number = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["group", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(
                fields=["group", "number"], name="one_guidelines_number"
            )
        ]

    def __str__(self) -> str:
        return f"guidelines v{self.number} of {self.group_id}"


class GuidelinesAcceptance(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="guidelines_acceptances",
    )
    version = models.ForeignKey(
        GuidelinesVersion, on_delete=models.CASCADE, related_name="acceptances"
    )
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="one_acceptance")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} accepted {self.version_id}"
