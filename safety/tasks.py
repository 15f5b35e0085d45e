"""Periodic safety work. Add to CELERY_BEAT_SCHEDULE (every 60 s):
"safety-escalate": {"task": "safety.tasks.escalate_alerts", "schedule": 60.0}
"""

from __future__ import annotations

from celery import shared_task

from .services.alerts import escalate_unacknowledged


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def escalate_alerts() -> int:
    return escalate_unacknowledged()
