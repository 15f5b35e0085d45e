"""Sending deliveries, a batch at a time: claim, re-check, send, record.

The claim (pending → sending, committed before any email leaves) makes a
second copy of the task do nothing. A worker killed after claiming leaves
its rows in `sending`; once their lease runs out they are reconciled
against the mailer (did the message with this id leave?) instead of being
sent blindly again. A mailer that cannot say turns them into visible
failures: never twice, never silently lost.

A batch costs a fixed number of queries (plus a couple per session it
touches) and goes out over one mail connection; one email failing (a
refused address) does not stop the rest. The trade-off: a worker killed
mid-batch leaves up to a batch of rows in `sending`, not one. Results are
recorded every SENT_FLUSH emails to keep that short, and a mailer that can
say what it has (the outbox) settles each of them exactly.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core import mail as django_mail
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.emails import templated_message
from reminders import mail
from reminders.models import Delivery, Kind, State

from .checks import Facts, quiet_deferral, why_not
from .compose import Composer

log = logging.getLogger("hearth.reminders")

MAX_ATTEMPTS = 5
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 300  # no far-future countdowns (S-10)
SENT_FLUSH = 25


class RetryLater(Exception):
    def __init__(self, seconds: int, delivery_ids: Iterable[int] = ()) -> None:
        super().__init__(f"retry in {seconds}s")
        self.seconds = seconds
        self.delivery_ids = list(delivery_ids)


@dataclass(frozen=True)
class Outcome:
    state: str
    reason: str = ""


@dataclass
class BatchReport:
    claimed: int = 0
    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: int = 0
    released: int = 0


def backoff(attempts: int) -> int:
    """Exponential with jitter: 30, 60, 120, 240 s (±20 %), capped at 300."""
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    jittered = base * random.uniform(0.8, 1.2)
    return int(min(BACKOFF_CAP_SECONDS, jittered))


def lease_seconds() -> int:
    from .sweep import policy

    return policy("SEND_LEASE_SECONDS", 600)


def batch_size() -> int:
    from .sweep import policy

    return max(1, policy("SEND_BATCH_SIZE", 50))


# --- The claim -------------------------------------------------------------
@transaction.atomic
def _claim(
    delivery_ids: Sequence[int], now: dt.datetime
) -> tuple[list[Delivery], Facts]:
    """Take the rows that should be sent now; settle or defer the others."""
    rows = (
        Delivery.objects.select_related("meeting__group", "user")
        .filter(pk__in=delivery_ids)
        .order_by("pk")  # one locking order: two batches never deadlock
    )
    if connection.features.has_select_for_update:
        # Only the deliveries: their sessions and people stay free for
        # other batches and for edits.
        of = ("self",) if connection.features.has_select_for_update_of else ()
        rows = rows.select_for_update(of=of)
    lease = now - dt.timedelta(seconds=lease_seconds())
    due: list[Delivery] = []
    stale: list[Delivery] = []
    for delivery in rows:
        if delivery.state == State.SENDING:
            assert delivery.claimed_at is not None
            if delivery.claimed_at <= lease:
                stale.append(delivery)
            # else: someone is on it
        elif delivery.state == State.PENDING and delivery.send_after <= now:
            due.append(delivery)
    if stale:
        due = sorted([*due, *_reconcile(stale, now)], key=lambda d: d.pk)
    facts = Facts.load(due)
    settled: dict[tuple[str, str], list[int]] = defaultdict(list)
    deferred: list[Delivery] = []
    claimed: list[Delivery] = []
    for delivery in due:
        reason = why_not(facts, delivery, now)
        if reason:
            final = (
                State.CANCELLED if reason in ("moved", "cancelled") else State.SKIPPED
            )
            settled[final, reason].append(delivery.pk)
            continue
        later = quiet_deferral(facts, delivery, now)
        if later is None:
            claimed.append(delivery)
        elif delivery.kind == Kind.REMINDER and later >= delivery.meeting.starts_at:
            settled[State.SKIPPED, "quiet-hours"].append(delivery.pk)
        else:
            delivery.state = State.PENDING
            delivery.send_after = later
            delivery.dispatched_at = None
            deferred.append(delivery)
    for (state, reason), ids in settled.items():
        Delivery.objects.filter(pk__in=ids).update(
            state=state, reason=reason, sent_at=None
        )
    if deferred:
        Delivery.objects.bulk_update(deferred, ["state", "send_after", "dispatched_at"])
    if claimed:
        Delivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
            state=State.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
        for delivery in claimed:
            delivery.state, delivery.claimed_at = State.SENDING, now
            delivery.attempts += 1
    return claimed, facts


def _reconcile(stale: list[Delivery], now: dt.datetime) -> list[Delivery]:
    """Rows left in `sending` past their lease: settle those the mailer has
    (or cannot tell about); return those it never got, to send now."""
    since = min(d.claimed_at for d in stale if d.claimed_at is not None)
    found = mail.accepted_among([d.message_id for d in stale], since=since)
    if found is None:
        Delivery.objects.filter(pk__in=[d.pk for d in stale]).update(
            state=State.FAILED, reason="interrupted", last_error="Interrupted"
        )
        for delivery in stale:
            log.warning("delivery interrupted, outcome unknown id=%s", delivery.pk)
        return []
    gone = [d.pk for d in stale if d.message_id in found]
    if gone:
        Delivery.objects.filter(pk__in=gone).update(state=State.SENT, sent_at=now)
        log.info("deliveries reconciled as sent ids=%s", gone)
    return [d for d in stale if d.message_id not in found]


# --- The send ----------------------------------------------------------------
def _message(
    composer: Composer, facts: Facts, delivery: Delivery
) -> EmailMultiAlternatives | None:
    email = composer.email(delivery, recipient_name=facts.name_in_group(delivery))
    return templated_message(
        to=[delivery.user.email],
        subject=email.subject,
        template=email.template,
        context=email.context,
        recipient_timezone=delivery.user.timezone,
        attachments=email.attachments,
        headers={"Message-ID": delivery.message_id, **email.headers},
        message_class=mail.ReminderEmail,
    )


def _close(mailer: Any) -> None:
    try:
        mailer.close()
    except Exception:  # a broken connection may fail to close, too
        log.debug("mail connection did not close cleanly")


def send_batch(delivery_ids: Iterable[int]) -> BatchReport:
    """Send recorded deliveries over one mail connection. Safe to run any
    number of times, on any overlapping batches. Raises RetryLater, after
    recording everything else, when some emails should be tried again."""
    now = timezone.now()
    claimed, facts = _claim(sorted(set(delivery_ids)), now)
    report = BatchReport(claimed=len(claimed))
    if not claimed:
        return report
    mailer = django_mail.mailers.default
    try:
        mailer.open()
    except Exception as error:  # any kind: the whole batch retries
        failures = [(d, error) for d in claimed]
    else:
        try:
            failures = _send_each(mailer, claimed, Composer(now), facts, report)
        finally:
            _close(mailer)
    if report.sent:
        log.info("deliveries sent ids=%s", ",".join(map(str, report.sent)))
    waits = _failed(failures, report)
    if report.retrying:
        raise RetryLater(max(waits), report.retrying)
    return report


def _send_each(
    mailer: Any,
    claimed: list[Delivery],
    composer: Composer,
    facts: Facts,
    report: BatchReport,
) -> list[tuple[Delivery, Exception]]:
    """Send one by one over an open connection; return what failed."""
    # A batch never outlives its lease: what is left by then goes back to
    # the queue rather than risk being reconciled while still in hand.
    deadline = time.monotonic() + lease_seconds() / 2
    failures: list[tuple[Delivery, Exception]] = []
    unrecorded: list[int] = []
    try:
        for index, delivery in enumerate(claimed):
            if time.monotonic() > deadline:
                report.released = _release(claimed[index:])
                break
            try:
                message = _message(composer, facts, delivery)
                if message is not None:
                    mailer.send_messages([message])
            except Exception as error:  # any kind: kept by class name only
                failures.append((delivery, error))
                # Start afresh for the next one; if the mailer is gone, the
                # rest of the batch waits for its retry instead.
                _close(mailer)
                try:
                    mailer.open()
                except Exception as down:
                    failures += [(d, down) for d in claimed[index + 1 :]]
                    break
                continue
            unrecorded.append(delivery.pk)
            if len(unrecorded) >= SENT_FLUSH:
                report.sent += _record_sent(unrecorded)
                unrecorded = []
    finally:
        report.sent += _record_sent(unrecorded)
    return failures


def _record_sent(ids: list[int]) -> list[int]:
    if ids:
        Delivery.objects.filter(pk__in=ids, state=State.SENDING).update(
            state=State.SENT, sent_at=timezone.now(), last_error=""
        )
    return list(ids)


def _release(rest: list[Delivery]) -> int:
    """Claimed but not tried: pending again, for the next sweep at once."""
    return Delivery.objects.filter(
        pk__in=[d.pk for d in rest], state=State.SENDING
    ).update(
        state=State.PENDING,
        claimed_at=None,
        dispatched_at=None,
        attempts=F("attempts") - 1,
    )


def _failed(
    failures: list[tuple[Delivery, Exception]], report: BatchReport
) -> list[int]:
    """Retry with backoff, or give up visibly; only the error's class name
    is kept (messages may hold addresses)."""
    waits = []
    for delivery, error in failures:
        name = type(error).__name__[:80]
        if delivery.attempts >= MAX_ATTEMPTS:
            Delivery.objects.filter(pk=delivery.pk).update(
                state=State.FAILED, last_error=name, reason="gave-up"
            )
            report.failed += 1
            log.error(
                "delivery failed id=%s kind=%s attempts=%s error=%s",
                delivery.pk,
                delivery.kind,
                delivery.attempts,
                name,
            )
            continue
        wait = backoff(delivery.attempts)
        Delivery.objects.filter(pk=delivery.pk).update(
            state=State.PENDING,
            last_error=name,
            send_after=timezone.now() + dt.timedelta(seconds=wait),
            dispatched_at=timezone.now(),
        )
        report.retrying.append(delivery.pk)
        waits.append(wait)
        log.warning(
            "delivery will retry id=%s attempt=%s error=%s in=%ss",
            delivery.pk,
            delivery.attempts,
            name,
            wait,
        )
    return waits


def send(*, delivery_id: int) -> Outcome:
    """Send one recorded delivery (a batch of one)."""
    if send_batch([delivery_id]).sent:
        return Outcome(State.SENT)
    state = (
        Delivery.objects.filter(pk=delivery_id).values_list("state", "reason").first()
    )
    return Outcome(*(state or ("missing", "")))
