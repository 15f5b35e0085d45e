"""Celery tasks: ids in, one service call each, safe to run twice.

Beat runs `sweep` every minute in UTC; there are no ETA tasks beyond a
short retry backoff (at most 300 s).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from reminders.services import deliver, retention
from reminders.services.sweep import run_sweep


@shared_task(ignore_result=True)
def sweep() -> dict[str, int]:
    return run_sweep().as_dict()


@shared_task(bind=True, max_retries=8, acks_late=True, ignore_result=True)
def send_batch(self: Any, delivery_ids: list[int]) -> int:
    """Send a batch of deliveries over one mail connection; retry only the
    ones that failed."""
    try:
        return len(deliver.send_batch(delivery_ids).sent)
    except deliver.RetryLater as later:
        raise self.retry(args=[later.delivery_ids], countdown=later.seconds) from None


# Kept for messages already queued by an earlier release.
@shared_task(bind=True, max_retries=8, acks_late=True, ignore_result=True)
def send_delivery(self: Any, delivery_id: int) -> str:
    try:
        return deliver.send(delivery_id=delivery_id).state
    except deliver.RetryLater as later:
        raise self.retry(countdown=later.seconds) from None


@shared_task(ignore_result=True)
def apply_retention() -> dict[str, int]:
    report = retention.apply_retention()
    return {
        "rooms": report.rooms,
        "messages": report.messages,
        "thread_messages": report.thread_messages,
    }
