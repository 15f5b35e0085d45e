"""Background work for groups. Tasks take ids, re-read state, and are safe
to run twice (a notice about something that changed since is skipped)."""

from __future__ import annotations

from celery import shared_task

from . import notices


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_join_request(request_id: int) -> None:
    notices.join_request_received(request_id=request_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_join_decision(request_id: int) -> None:
    notices.join_request_decided(request_id=request_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_waitlist_promotion(rsvp_id: int) -> None:
    notices.waitlist_promoted(rsvp_id=rsvp_id)


@shared_task
def extend_series() -> int:
    from .services import extend_all_series

    return extend_all_series()
