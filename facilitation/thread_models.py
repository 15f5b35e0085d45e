"""A private thread in the room: one member and the group's facilitators.

Its text lives only in `ThreadMessage` and goes with the session's chat
(reminders.services.retention). Nothing else stores it: not the room's
public log, not the safety queue, not logs or admin (docs/safety.md).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

_USER = settings.AUTH_USER_MODEL


class PrivateThread(models.Model):
    room = models.ForeignKey(
        "facilitation.LiveRoom", on_delete=models.CASCADE, related_name="threads"
    )
    member = models.ForeignKey(_USER, on_delete=models.CASCADE, related_name="+")
    opened_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["room", "opened_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "member"],
                condition=Q(closed_at__isnull=True),
                name="one_open_thread_per_member",
            )
        ]

    def __str__(self) -> str:
        state = "open" if self.closed_at is None else "closed"
        return f"private thread {self.pk} with {self.member_id} ({state})"


class ThreadMessage(models.Model):
    """One line of a private thread. Only lines that were passed on are
    stored; a held or blocked line is kept nowhere."""

    thread = models.ForeignKey(
        PrivateThread, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        _USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    # The group shows concern-level lines behind a content note.
    note = models.BooleanField(default=False)
    client_msg_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["thread", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["thread", "author", "client_msg_id"],
                condition=~Q(client_msg_id=""),
                name="idempotent_thread_message",
            )
        ]

    def __str__(self) -> str:
        # Never the text (docs/safety.md).
        return f"line {self.pk} of thread {self.thread_id}"
