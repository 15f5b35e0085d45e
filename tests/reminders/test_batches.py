"""Sending in batches (issue 7): one mail connection and a fixed number of
queries per batch, every re-check still made per person, one failure
never holding up the rest, and each email still its recipient's own."""

from __future__ import annotations

import copy
import datetime as dt
import email.policy
import smtplib
from typing import Any
from unittest import mock

import icalendar
import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from groups.models import Meeting, Membership
from reminders import unsubscribe
from reminders.mail import ReminderEmail
from reminders.models import Delivery, GroupOptOut, Kind, State
from reminders.services import deliver
from reminders.services.sweep import enqueue, run_sweep
from tests.factories import MeetingFactory, UserFactory

from .conftest import ics_of, parsed, sent_to, text_of

pytestmark = pytest.mark.django_db


def _members(group: Any, count: int) -> list[Any]:
    users = [UserFactory(display_name=f"Member {i}") for i in range(count)]
    Membership.objects.bulk_create(Membership(group=group, user=u) for u in users)
    return users


def _recorded(group: Any, count: int) -> tuple[Meeting, list[Any], list[int]]:
    """`count` members and a session in 30 minutes, its reminders recorded."""
    users = _members(group, count)
    meeting = MeetingFactory(
        group=group, starts_at=timezone.now() + dt.timedelta(minutes=30)
    )
    run_sweep(send=False)
    ids = list(
        Delivery.objects.filter(meeting=meeting)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(ids) == count
    return meeting, users, ids


class CountingBackend(BaseEmailBackend):
    """locmem, counting connections; refuses the addresses in `refuse`."""

    opened = 0
    refuse: set[str] = set()
    down = False

    def __init__(self, **kwargs: Any) -> None:
        from django.core.mail.backends.locmem import EmailBackend

        super().__init__(alias=kwargs.get("alias"))
        self.inner = EmailBackend(**kwargs)

    def open(self) -> bool:
        if CountingBackend.down:
            raise ConnectionRefusedError("relay down")
        CountingBackend.opened += 1
        return True

    def send_messages(self, messages: Any) -> int:
        for message in messages:
            if set(message.to) & CountingBackend.refuse:
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"no")})
        return int(self.inner.send_messages(messages))


@pytest.fixture
def counting(settings: Any) -> type[CountingBackend]:
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.CountingBackend"}}
    CountingBackend.opened, CountingBackend.refuse = 0, set()
    CountingBackend.down = False
    return CountingBackend


def test_a_batch_goes_out_over_one_connection(
    group: Any, counting: type[CountingBackend]
) -> None:
    meeting, users, ids = _recorded(group, 12)
    report = deliver.send_batch(ids)
    assert sorted(report.sent) == ids
    assert counting.opened == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    states = set(Delivery.objects.filter(meeting=meeting).values_list("state"))
    assert states == {(State.SENT,)}


def test_the_sweep_hands_out_ids_in_batches(group: Any, settings: Any) -> None:
    settings.HEARTH = {**settings.HEARTH, "SEND_BATCH_SIZE": 4}
    with mock.patch("reminders.tasks.send_batch.delay") as delay:
        enqueue(range(1, 11))
    assert [c.args for c in delay.call_args_list] == [
        ([1, 2, 3, 4],),
        ([5, 6, 7, 8],),
        ([9, 10],),
    ]
    _recorded(group, 9)
    run_sweep()
    assert len(mail.outbox) == 9
    assert Delivery.objects.filter(state=State.SENT).count() == 9


def test_queries_per_batch_do_not_grow_with_its_size(
    group: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Recording results every SENT_FLUSH emails is the one step that grows.
    monkeypatch.setattr(deliver, "SENT_FLUSH", 100)
    _, _, small = _recorded(group, 3)
    with CaptureQueriesContext(connection) as three:
        deliver.send_batch(small)
    other = MeetingFactory(
        group=group, starts_at=timezone.now() + dt.timedelta(minutes=40)
    )
    _members(group, 27)
    run_sweep(send=False)
    large = list(Delivery.objects.filter(meeting=other).values_list("pk", flat=True))
    assert len(large) == 30
    with CaptureQueriesContext(connection) as thirty:
        deliver.send_batch(large)
    assert len(mail.outbox) == 33
    assert len(thirty) == len(three) <= 15, [q["sql"] for q in thirty]


def test_whoever_opted_out_meanwhile_is_skipped_and_the_rest_sent(
    group: Any,
) -> None:
    meeting, users, ids = _recorded(group, 4)
    # After the sweep recorded them, before the worker got to them:
    GroupOptOut.objects.create(user=users[0], group=group, family="reminders")
    type(users[1]).objects.filter(pk=users[1].pk).update(email_reminders=False)
    Membership.objects.filter(user=users[2]).delete()
    deliver.send_batch(ids)
    assert [m.to for m in mail.outbox] == [[users[3].email]]
    reasons = dict(
        Delivery.objects.filter(meeting=meeting).values_list("user_id", "reason")
    )
    assert reasons == {
        users[0].pk: "opted-out",
        users[1].pk: "opted-out",
        users[2].pk: "left-group",
        users[3].pk: "",
    }


def test_one_refused_address_does_not_stop_the_batch(
    group: Any, counting: type[CountingBackend]
) -> None:
    meeting, users, ids = _recorded(group, 5)
    counting.refuse = {users[2].email}
    with pytest.raises(deliver.RetryLater) as later:
        deliver.send_batch(ids)
    bad = Delivery.objects.get(meeting=meeting, user=users[2])
    assert later.value.delivery_ids == [bad.pk]
    assert 0 < later.value.seconds <= deliver.BACKOFF_CAP_SECONDS
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        u.email for i, u in enumerate(users) if i != 2
    )
    assert (bad.state, bad.last_error, bad.attempts) == (
        State.PENDING,
        "SMTPRecipientsRefused",
        1,
    )
    assert bad.send_after > timezone.now()
    others = Delivery.objects.filter(meeting=meeting).exclude(pk=bad.pk)
    assert set(others.values_list("state", flat=True)) == {State.SENT}


def test_a_mailer_that_is_down_leaves_the_whole_batch_to_retry(
    group: Any, counting: type[CountingBackend]
) -> None:
    meeting, _, ids = _recorded(group, 3)
    counting.down = True
    with pytest.raises(deliver.RetryLater) as later:
        deliver.send_batch(ids)
    assert sorted(later.value.delivery_ids) == ids
    assert mail.outbox == []
    rows = Delivery.objects.filter(meeting=meeting)
    assert set(rows.values_list("state", "last_error", "attempts")) == {
        (State.PENDING, "ConnectionRefusedError", 1)
    }


def test_overlapping_batches_send_each_email_once(group: Any) -> None:
    _, users, ids = _recorded(group, 6)
    deliver.send_batch(ids[:4])
    deliver.send_batch(ids[2:])
    deliver.send_batch(ids)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


def test_each_email_in_a_batch_is_its_recipients_own(group: Any) -> None:
    meeting, users, ids = _recorded(group, 3)
    Membership.objects.filter(user=users[1]).update(display_name="Wren")
    deliver.send_batch(ids)
    for user in users:
        (message,) = sent_to(user.email)
        _, content = ics_of(message)
        (event,) = icalendar.Calendar.from_ical(content).walk("VEVENT")
        assert str(event["uid"]) == meeting.uid
        assert str(event["attendee"]) == f"mailto:{user.email}"
        link = str(parsed(message)["List-Unsubscribe"]).strip("<>")
        scope = unsubscribe.read_token(link.rstrip("/").rsplit("/", 1)[1])
        assert scope is not None and scope.user_id == user.pk
        assert scope.group_id == group.pk
        name = "Wren" if user == users[1] else user.display_name
        assert text_of(message).startswith(f"Hello {name},")


def test_a_batch_never_outlives_its_lease(group: Any, settings: Any) -> None:
    meeting, _, ids = _recorded(group, 3)
    settings.HEARTH = {**settings.HEARTH, "SEND_LEASE_SECONDS": 0}
    report = deliver.send_batch(ids)
    assert (report.sent, report.released) == ([], 3)
    rows = Delivery.objects.filter(meeting=meeting)
    assert set(rows.values_list("state", "attempts", "dispatched_at")) == {
        (State.PENDING, 0, None)
    }
    settings.HEARTH = {**settings.HEARTH, "SEND_LEASE_SECONDS": 600}
    run_sweep()
    assert len(mail.outbox) == 3


def test_stale_claims_of_a_batch_are_reconciled_together(group: Any) -> None:
    _, users, ids = _recorded(group, 3)
    deliver.send_batch(ids[:1])  # this one left; then the worker died
    claimed = timezone.now() - dt.timedelta(seconds=deliver.lease_seconds() + 1)
    Delivery.objects.filter(pk__in=ids).update(
        state=State.SENDING, claimed_at=claimed, attempts=1
    )
    deliver.send_batch(ids)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    assert set(Delivery.objects.values_list("state", flat=True)) == {State.SENT}


def test_reminder_messages_are_byte_for_byte_djangos(group: Any) -> None:
    """The cached header registry changes speed, not output."""
    fields = {
        "subject": "Hearth: Coming up: Circle, Tue 3 Mar, 19:00",
        "body": "Hello Sam,\n\nSee you soon — bring tea.\n",
        "to": ["sam@example.org"],
        "headers": {
            "Message-ID": "<delivery-1.reminder@hearth>",
            "Date": "Tue, 03 Mar 2026 18:00:00 +0000",
            "List-Unsubscribe": "<http://127.0.0.1:8000/unsubscribe/x/>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    }
    # The default policy (locmem, file outbox) and SMTP's (CRLF lines).
    for policy in ({}, {"policy": email.policy.SMTP}):
        built = []
        for cls in (EmailMultiAlternatives, ReminderEmail, ReminderEmail):
            message = cls(**copy.deepcopy(fields))
            message.attach_alternative("<p>Hello Sam</p>", "text/html")
            message.attach("invite.ics", b"BEGIN:VCALENDAR\r\n", "text/calendar")
            mime = message.message(**policy)
            for part in mime.walk():
                if part.is_multipart():
                    part.set_boundary("BOUNDARY")
            built.append(mime.as_bytes())
        assert built[0] == built[1] == built[2]
    with pytest.raises(ValueError):
        bad = ReminderEmail(**{**fields, "subject": "Hi\nBcc: x@example.org"})
        bad.message()


def test_the_old_one_delivery_task_still_sends(group: Any) -> None:
    from reminders import tasks

    _, users, ids = _recorded(group, 1)
    tasks.send_delivery.delay(ids[0])
    assert [m.to for m in mail.outbox] == [[users[0].email]]
    assert Delivery.objects.get().kind == Kind.REMINDER
