"""Sending one delivery: claim it, check it still makes sense, send, record.

The claim (pending → sending, committed before any email leaves) makes a
second copy of the task do nothing. A worker killed after claiming leaves
the row in `sending`; once its lease runs out the row is reconciled against
the mailer (did the message with this id leave?) instead of being sent
blindly again. A mailer that cannot say turns it into a visible failure:
never twice, never silently lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.emails import send_templated
from accounts.models import User
from groups.models import FACILITATING_ROLES, RSVP, Meeting, Membership
from reminders import mail
from reminders.models import Delivery, Kind, State
from reminders.quiet import quiet_until

from .audience import options_for, preferences_for, wants
from .compose import compose

log = logging.getLogger("hearth.reminders")

MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 300  # no far-future countdowns (S-10)


class RetryLater(Exception):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"retry in {seconds}s")
        self.seconds = seconds


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str = ""


def backoff(attempts: int) -> int:
    """Exponential with jitter: 30, 60, 120, 240 s (±20 %), capped at 300."""
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    jittered = base * random.uniform(0.8, 1.2)
    return int(min(BACKOFF_CAP_SECONDS, jittered))


def lease_seconds() -> int:
    from .sweep import policy

    return policy("SEND_LEASE_SECONDS", 600)


# --- Re-checks at send time ------------------------------------------------
def why_not(delivery: Delivery, meeting: Meeting, user: User, now: dt.datetime) -> str:
    """A short reason this email should no longer be sent, or ""."""
    membership = Membership.objects.filter(
        group_id=meeting.group_id, user_id=user.pk
    ).first()
    if membership is None:
        return "left-group"
    if not wants(user, meeting.group_id, delivery.family):
        return "opted-out"
    kind = delivery.kind
    if kind in (Kind.REMINDER, Kind.UPDATE):
        if meeting.is_cancelled:
            return "cancelled"
        if delivery.sequence != meeting.sequence:
            return "moved"
    if kind == Kind.REMINDER:
        if meeting.starts_at <= now:
            return "started"
        answer = (
            RSVP.objects.filter(meeting=meeting, user_id=user.pk)
            .values_list("status", flat=True)
            .first()
        )
        if answer in (RSVP.Status.NOT_GOING, RSVP.Status.WAITLISTED):
            return "not-going"
        if (
            answer is None
            and not options_for([meeting.group_id])[meeting.group_id].remind_unanswered
        ):
            return "not-answered"
        closer = Delivery.objects.filter(
            meeting=meeting,
            user_id=user.pk,
            kind=Kind.REMINDER,
            sequence=delivery.sequence,
            offset_minutes__lt=delivery.offset_minutes,
        ).exclude(state__in=[State.CANCELLED, State.SKIPPED])
        if closer.exists():
            return "superseded"
    if kind == Kind.UPDATE and meeting.ends_at <= now:
        return "over"
    if kind == Kind.CANCELLATION and not meeting.is_cancelled:
        return "not-cancelled"
    if kind == Kind.SUMMARY and membership.role not in FACILITATING_ROLES:
        return "not-facilitating"
    if kind == Kind.REFLECTION:
        from journal.models import Reflection

        if Reflection.objects.filter(author=user, meeting=meeting).exists():
            return "already-reflected"
    if (
        kind == Kind.MISSED
        and not options_for([meeting.group_id])[meeting.group_id].missed_follow_up
    ):
        return "option-off"
    return ""


QUIET_KINDS = (Kind.REMINDER, Kind.REFLECTION, Kind.MISSED, Kind.SUMMARY)


def _quiet_deferral(
    delivery: Delivery, user: User, now: dt.datetime
) -> dt.datetime | None:
    if delivery.kind not in QUIET_KINDS:
        return None
    prefs = preferences_for([user.pk]).get(user.pk)
    if prefs is None or not prefs.has_quiet_hours:
        return None
    assert prefs.quiet_start is not None and prefs.quiet_end is not None
    return quiet_until(
        now, start=prefs.quiet_start, end=prefs.quiet_end, zone=user.zone
    )


# --- The claim -------------------------------------------------------------
@transaction.atomic
def _claim(delivery_id: int, now: dt.datetime) -> Delivery | None:
    """Take the row for sending, or settle it without sending."""
    delivery = (
        Delivery.objects.select_for_update()
        .select_related("meeting__group", "user")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        return None
    if delivery.state == State.SENDING:
        assert delivery.claimed_at is not None
        if delivery.claimed_at > now - dt.timedelta(seconds=lease_seconds()):
            return None  # someone is on it
        verdict = mail.accepted(delivery.message_id, since=delivery.claimed_at)
        if verdict is True:
            _settle(delivery, State.SENT, sent_at=now)
            log.info("delivery reconciled as sent id=%s", delivery.pk)
            return None
        if verdict is None:
            delivery.last_error = "Interrupted"
            _settle(delivery, State.FAILED, reason="interrupted")
            log.warning("delivery interrupted, outcome unknown id=%s", delivery.pk)
            return None
        # The mailer never got it: send it now.
    elif delivery.state != State.PENDING or delivery.send_after > now:
        return None
    reason = why_not(delivery, delivery.meeting, delivery.user, now)
    if reason:
        final = State.CANCELLED if reason in ("moved", "cancelled") else State.SKIPPED
        _settle(delivery, final, reason=reason)
        return None
    later = _quiet_deferral(delivery, delivery.user, now)
    if later is not None:
        if delivery.kind == Kind.REMINDER and later >= delivery.meeting.starts_at:
            _settle(delivery, State.SKIPPED, reason="quiet-hours")
        else:
            delivery.state = State.PENDING
            delivery.send_after = later
            delivery.dispatched_at = None
            delivery.save(update_fields=["state", "send_after", "dispatched_at"])
        return None
    delivery.state = State.SENDING
    delivery.claimed_at = now
    delivery.attempts += 1
    delivery.save(update_fields=["state", "claimed_at", "attempts"])
    return delivery


def _settle(
    delivery: Delivery,
    state: str,
    *,
    reason: str = "",
    sent_at: dt.datetime | None = None,
) -> None:
    delivery.state = state
    delivery.reason = reason or delivery.reason
    delivery.sent_at = sent_at
    delivery.save(update_fields=["state", "reason", "sent_at", "last_error"])


# --- The send ----------------------------------------------------------------
def send(*, delivery_id: int) -> Outcome:
    """Send one recorded delivery. Safe to run any number of times."""
    now = timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        state = (
            Delivery.objects.filter(pk=delivery_id)
            .values_list("state", "reason")
            .first()
        )
        return Outcome(*(state or ("missing", "")))
    try:
        email = compose(delivery)
        send_templated(
            to=[delivery.user.email],
            subject=email.subject,
            template=email.template,
            context=email.context,
            recipient_timezone=delivery.user.timezone,
            attachments=email.attachments,
            headers={"Message-ID": delivery.message_id, **email.headers},
        )
    except Exception as error:
        return _failed(delivery, error)
    Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
        state=State.SENT, sent_at=timezone.now(), last_error=""
    )
    log.info(
        "delivery sent id=%s kind=%s meeting=%s user=%s attempt=%s",
        delivery.pk,
        delivery.kind,
        delivery.meeting_id,
        delivery.user_id,
        delivery.attempts,
    )
    return Outcome(State.SENT)


def _failed(delivery: Delivery, error: Exception) -> Outcome:
    name = type(error).__name__[:80]
    if delivery.attempts >= MAX_ATTEMPTS:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=State.FAILED, last_error=name, reason="gave-up"
        )
        log.error(
            "delivery failed id=%s kind=%s attempts=%s error=%s",
            delivery.pk,
            delivery.kind,
            delivery.attempts,
            name,
        )
        return Outcome(State.FAILED, "gave-up")
    wait = backoff(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=State.PENDING,
        last_error=name,
        send_after=timezone.now() + dt.timedelta(seconds=wait),
        dispatched_at=timezone.now(),
    )
    log.warning(
        "delivery will retry id=%s attempt=%s error=%s in=%ss",
        delivery.pk,
        delivery.attempts,
        name,
        wait,
    )
    raise RetryLater(wait)
