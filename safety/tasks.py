"""Safety work off the request path. Add to CELERY_BEAT_SCHEDULE (60 s):
"safety-escalate": {"task": "safety.tasks.escalate_alerts", "schedule": 60.0}
"""

from __future__ import annotations

from celery import shared_task

from .services.alerts import escalate_unacknowledged
from .services.delivery import retry_alert_emails
from .services.delivery import send_alert_emails as send_emails


@shared_task
def send_alert_emails(alert_id: int) -> int:
    """An alert's at-once emails. No autoretry: a failed row stays in the
    outbox and the minute sweep below retries it (docs/safety.md)."""
    return send_emails(alert_id=alert_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def escalate_alerts() -> int:
    """Escalate unacknowledged urgent alerts, then retry unsent alert emails."""
    escalated = escalate_unacknowledged()
    retry_alert_emails()
    return escalated
