"""The live room of a session: its state, its event log and who is there.

Room state lives in the database, never in a server process: every change
goes through `room.transition` under a row lock, bumps the version and
appends an event with the next per-session sequence number. Any number of
ASGI processes can then serve the same room.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from groups.models import Meeting


class Status(models.TextChoices):
    SCHEDULED = "scheduled", "Not open yet"
    OPEN = "open", "Open (lobby)"
    LIVE = "live", "Live"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


def initial_state() -> dict[str, Any]:
    return {
        "status": Status.SCHEDULED.value,
        "lobby": [],
        "admitted": [],
        "queue": [],
        "speaking": None,
        "spoken": [],
        "plan_index": -1,
        "timer": {"deadline": None, "seconds": 0, "remaining": None},
        "pinned": "",
        "locked": False,
        "auto_admit": False,
        "removed": [],
    }


class LiveRoom(models.Model):
    meeting = models.OneToOneField(
        Meeting, on_delete=models.CASCADE, related_name="live_room"
    )
    state = models.JSONField(default=initial_state)
    version = models.PositiveIntegerField(default=0)
    last_seq = models.PositiveBigIntegerField(default=0)
    # The session plan as it stood when the room opened: the prompts shown
    # are exactly these versions, whatever happens to the plan later.
    plan = models.JSONField(default=list, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"room of meeting {self.meeting_id} ({self.status})"

    @property
    def status(self) -> str:
        return str(self.state.get("status", Status.SCHEDULED))

    @property
    def group_name(self) -> str:
        """The channel-layer group of everyone admitted to this room."""
        return f"room.{self.meeting_id}"

    @property
    def facilitators_group_name(self) -> str:
        return f"room.{self.meeting_id}.fac"


class RoomEvent(models.Model):
    """One entry of a room's public log, numbered without gaps per room."""

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(default=dict)
    client_msg_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Hidden by a facilitator or removed by retention: text is gone, a
    # tombstone stays so every client's history lines up.
    hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="one_event_per_seq"),
            models.UniqueConstraint(
                fields=["room", "actor", "client_msg_id"],
                condition=~Q(client_msg_id=""),
                name="idempotent_client_message",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id}#{self.seq} {self.kind}"


class RoomConnection(models.Model):
    """An open socket. Presence is derived from these rows (with a heartbeat
    so that a killed server's sockets fade out), never from process memory."""

    room = models.ForeignKey(
        LiveRoom, on_delete=models.CASCADE, related_name="connections"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)
    # The tab's visibility as its browser last reported it, and when it was
    # last visible (the hidden-tab rule for alerts, docs/safety.md). A new
    # socket counts as visible until its browser says otherwise.
    visible = models.BooleanField(default=True)
    visible_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id} in {self.room_id}"


class Attendance(models.Model):
    room = models.ForeignKey(
        LiveRoom, on_delete=models.CASCADE, related_name="attendance"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attendance"
    )
    first_joined_at = models.DateTimeField()
    last_left_at = models.DateTimeField(null=True, blank=True)
    present_since = models.DateTimeField(null=True, blank=True)
    seconds = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="one_attendance")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} attended {self.room_id} for {self.seconds}s"


class CheckIn(models.Model):
    class Phase(models.TextChoices):
        IN = "in", "Check-in"
        OUT = "out", "Check-out"

    room = models.ForeignKey(
        LiveRoom, on_delete=models.CASCADE, related_name="checkins"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkins"
    )
    phase = models.CharField(max_length=3, choices=Phase.choices)
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    word = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["room", "user", "phase"], name="one_checkin_per_phase"
            )
        ]

    def __str__(self) -> str:
        return f"{self.phase} {self.score} by {self.user_id}"


class FacilitatorAlert(models.Model):
    """Private notices only facilitators see ("I need a moment", floods)."""

    class Kind(models.TextChoices):
        MOMENT = "moment", "Needs a moment"
        FLOOD = "flood", "Sending too fast"

    room = models.ForeignKey(LiveRoom, on_delete=models.CASCADE, related_name="alerts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} from {self.user_id}"


# Private threads live in their own module (docs/protocol.md, "Private threads").
from .thread_models import PrivateThread, ThreadMessage  # noqa: E402, F401
