"""The audit log: who did what to which record, when and why. Never text.

Rows are written once and never changed or deleted through the ORM: `save`
refuses an existing row, `delete` refuses always, and the queryset refuses
bulk `update`/`delete`. Actor and group are kept as plain ids without a
database constraint, so deleting a person or a group leaves the trail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImmutableRecordError(Exception):
    """An attempt to change or delete an audit row."""


class AuditLogQuerySet(models.QuerySet["AuditLog"]):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableRecordError("Audit log rows cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError("Audit log rows cannot be deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise ImmutableRecordError("Audit log rows cannot be changed.")


class AuditLog(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="Empty for the system (screening, the strike ladder).",
    )
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=40, blank=True)
    group = models.ForeignKey(
        "groups.SupportGroup",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # A short why: a rule id, a reason code, a facilitator's note. Never
    # message, reflection or report text.
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["action", "target_type", "target_id", "created_at"]),
            models.Index(fields=["group", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id} by {self.actor_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableRecordError("Audit log rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableRecordError("Audit log rows cannot be deleted.")
