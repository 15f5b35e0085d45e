"""Chat text is deleted RETENTION_DAYS after its session ended.

The event stays as a tombstone (hidden, no text) so every client's history
still lines up by sequence number. Private-thread lines go at the same
time, as rows (nothing lines up by them); the thread itself stays, without
text. Running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from facilitation.models import LiveRoom, RoomEvent, ThreadMessage

log = logging.getLogger("hearth.reminders")

CHAT_KINDS = ("chat.message",)
BATCH = 500


@dataclass(frozen=True)
class RetentionReport:
    rooms: int
    messages: int
    cutoff: dt.datetime
    thread_messages: int = 0


def apply_retention(now: dt.datetime | None = None) -> RetentionReport:
    now = now or timezone.now()
    days = int(settings.HEARTH.get("RETENTION_DAYS", 30))
    cutoff = now - dt.timedelta(days=days)
    rooms = list(
        LiveRoom.objects.filter(
            ended_at__isnull=False, ended_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    still_there = Q(hidden=False) | Q(data__has_key="text")
    touched_rooms: set[int] = set()
    removed = 0
    while True:
        batch = list(
            RoomEvent.objects.filter(room_id__in=rooms, kind__in=CHAT_KINDS)
            .filter(still_there)
            .order_by("pk")[:BATCH]
        )
        if not batch:
            break
        with transaction.atomic():
            for event in batch:
                data = {k: v for k, v in event.data.items() if k != "text"}
                data["removed"] = "retention"
                event.data, event.hidden = data, True
            RoomEvent.objects.bulk_update(batch, ["data", "hidden"])
        removed += len(batch)
        touched_rooms.update(e.room_id for e in batch)
    threads = delete_thread_text(rooms)
    report = RetentionReport(len(touched_rooms), removed, cutoff, threads)
    log.info(
        "retention rooms=%s messages=%s thread_messages=%s cutoff=%s",
        report.rooms,
        report.messages,
        report.thread_messages,
        cutoff.isoformat(),
    )
    return report


def delete_thread_text(rooms: list[int]) -> int:
    """Delete the private-thread lines of these rooms, in batches."""
    deleted = 0
    while True:
        batch = list(
            ThreadMessage.objects.filter(thread__room_id__in=rooms)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not batch:
            return deleted
        deleted += ThreadMessage.objects.filter(pk__in=batch).delete()[0]
