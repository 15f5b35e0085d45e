"""The delivery record: recorded once, sent once, retried with backoff,
failed visibly; follow-ups after a session's real end; retention."""

from __future__ import annotations

import datetime as dt
import smtplib
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from facilitation.models import (
    Attendance,
    CheckIn,
    FacilitatorAlert,
    LiveRoom,
    RoomEvent,
)
from groups.models import RSVP, Meeting
from journal.models import Reflection, Sharing
from reminders.models import Delivery, GroupReminderOptions, Kind, State
from reminders.services import deliver
from reminders.services.retention import apply_retention
from reminders.services.sweep import run_sweep
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

from .conftest import sent_to, text_of

pytestmark = pytest.mark.django_db


def _soon(group: Any, minutes: int = 30) -> Meeting:
    return MeetingFactory(
        group=group, starts_at=timezone.now() + dt.timedelta(minutes=minutes)
    )


def test_recorded_once_and_sent_once_whatever_the_sweeps(
    group: Any, member: Any
) -> None:
    meeting = _soon(group)
    for _ in range(3):
        run_sweep(send=False)
    (delivery,) = Delivery.objects.filter(meeting=meeting)
    assert (delivery.kind, delivery.offset_minutes) == (Kind.REMINDER, 60)
    for _ in range(3):
        run_sweep()
        deliver.send(delivery_id=delivery.pk)  # a duplicate task
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.state == State.SENT and delivery.attempts == 1


def test_short_notice_gets_the_tightest_reminder_only(group: Any, member: Any) -> None:
    _soon(group, minutes=45)  # both the 24 h and the 1 h steps are past
    run_sweep()
    assert [m.subject for m in mail.outbox] == [mail.outbox[0].subject]
    assert Delivery.objects.get().offset_minutes == 60


def test_unanswered_members_per_group_option(group: Any, member: Any) -> None:
    other = MembershipFactory(group=group).user
    meeting = _soon(group)
    RSVP.objects.create(meeting=meeting, user=other, status=RSVP.Status.GOING)
    GroupReminderOptions.objects.create(group=group, remind_unanswered=False)
    run_sweep()
    assert [m.to for m in mail.outbox] == [[other.email]]


def test_not_going_and_opted_out_are_not_reminded(group: Any, member: Any) -> None:
    declined = MembershipFactory(group=group).user
    switched_off = MembershipFactory(
        group=group, user=UserFactory(email_reminders=False)
    ).user
    meeting = _soon(group)
    RSVP.objects.create(meeting=meeting, user=declined, status=RSVP.Status.NOT_GOING)
    run_sweep()
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert not Delivery.objects.filter(user__in=[declined, switched_off]).exists()


class FlakyBackend(BaseEmailBackend):
    """Fails a number of times, then hands over to locmem."""

    failures = 0

    def __init__(self, **kwargs: Any) -> None:
        from django.core.mail.backends.locmem import EmailBackend

        super().__init__(alias=kwargs.get("alias"))
        self.inner = EmailBackend(**kwargs)

    def send_messages(self, messages: Any) -> int:
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("503 try later")
        return int(self.inner.send_messages(messages))


@pytest.fixture
def flaky(settings: Any) -> type[FlakyBackend]:
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.FlakyBackend"}}
    return FlakyBackend


def test_failures_retry_with_backoff_then_succeed(
    group: Any, member: Any, flaky: type[FlakyBackend]
) -> None:
    flaky.failures = 3
    meeting = _soon(group)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        run_sweep()
    delivery = Delivery.objects.get(meeting=meeting)
    assert delivery.state == State.PENDING
    assert delivery.last_error == "SMTPServerDisconnected"
    waits = []
    moment = start
    for _ in range(3):
        delivery.refresh_from_db()
        if delivery.state == State.SENT:
            break
        waits.append((delivery.send_after - moment).total_seconds())
        moment = delivery.send_after + dt.timedelta(seconds=301)
        with time_machine.travel(moment, tick=False):
            run_sweep()
    delivery.refresh_from_db()
    assert delivery.state == State.SENT
    assert delivery.attempts == 4
    assert len(mail.outbox) == 1
    assert all(0 < w <= 300 for w in waits)
    assert waits[0] < waits[1]  # grows


def test_exhausted_retries_end_in_a_visible_failed_state(
    group: Any, member: Any, flaky: type[FlakyBackend]
) -> None:
    flaky.failures = 100
    meeting = _soon(group, minutes=50)
    moment = timezone.now()
    for _ in range(deliver.MAX_ATTEMPTS + 2):
        with time_machine.travel(moment, tick=False):
            run_sweep()
        moment += dt.timedelta(seconds=600)
        if moment >= meeting.starts_at:
            break
    delivery = Delivery.objects.get(meeting=meeting)
    assert delivery.state == State.FAILED
    assert delivery.attempts == deliver.MAX_ATTEMPTS
    assert delivery.last_error == "SMTPServerDisconnected"
    assert mail.outbox == []


def test_a_claim_left_by_a_dead_worker_is_reconciled(
    group: Any, member: Any, settings: Any
) -> None:
    meeting = _soon(group)
    run_sweep(send=False)
    delivery = Delivery.objects.get(meeting=meeting)
    # A worker claimed it, sent it, and died before recording the result.
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        state=State.SENDING, claimed_at=now, attempts=1
    )
    deliver.send(delivery_id=delivery.pk)
    assert Delivery.objects.get(pk=delivery.pk).state == State.SENDING  # leased
    later = now + dt.timedelta(seconds=deliver.lease_seconds() + 1)
    with time_machine.travel(later, tick=False):
        run_sweep()
    delivery.refresh_from_db()
    # locmem can tell: nothing left, so it is sent now, once.
    assert delivery.state == State.SENT
    assert len(mail.outbox) == 1
    with time_machine.travel(later, tick=False):
        Delivery.objects.filter(pk=delivery.pk).update(
            state=State.SENDING, claimed_at=now
        )
        deliver.send(delivery_id=delivery.pk)
    assert Delivery.objects.get(pk=delivery.pk).state == State.SENT
    assert len(mail.outbox) == 1  # the mailer had it: not sent again


def test_a_mailer_that_cannot_tell_fails_visibly(
    group: Any, member: Any, settings: Any
) -> None:
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    }
    meeting = _soon(group)
    run_sweep(send=False)
    delivery = Delivery.objects.get(meeting=meeting)
    claimed = timezone.now() - dt.timedelta(hours=1)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=State.SENDING, claimed_at=claimed, attempts=1
    )
    deliver.send(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.last_error) == (State.FAILED, "Interrupted")


# --- After the session -------------------------------------------------------
@pytest.fixture
def ended(group: Any, facilitator: Any, member: Any) -> LiveRoom:
    meeting = MeetingFactory(
        group=group, starts_at=timezone.now() - dt.timedelta(hours=3)
    )
    room = LiveRoom.objects.create(
        meeting=meeting,
        plan=[
            {"index": 0, "version_id": None, "title": "Arriving", "kind": "check-in"},
            {"index": 1, "version_id": None, "title": "Asking", "kind": "discussion"},
        ],
    )
    now = timezone.now()
    for user in (facilitator, member):
        Attendance.objects.create(room=room, user=user, first_joined_at=now)
    return room


def _end(room: LiveRoom, when: dt.datetime) -> None:
    """What facilitation does on "end": stamp ended_at once."""
    LiveRoom.objects.filter(pk=room.pk, ended_at__isnull=True).update(ended_at=when)


def test_reflection_invitation_after_the_real_end_exactly_once(
    ended: LiveRoom, member: Any, settings: Any
) -> None:
    settings.HEARTH = {**settings.HEARTH, "REFLECTION_DELAY_MINUTES": 120}
    real_end = timezone.now() + dt.timedelta(minutes=20)  # ran over
    _end(ended, real_end)
    _end(ended, real_end + dt.timedelta(minutes=1))  # "end" clicked again
    with time_machine.travel(real_end + dt.timedelta(minutes=119), tick=False):
        run_sweep()
    assert mail.outbox == []
    for extra in (120, 121, 180):
        with time_machine.travel(real_end + dt.timedelta(minutes=extra), tick=False):
            run_sweep()
    invitations = sent_to(member.email, "reflect")
    assert len(invitations) == 1
    text = text_of(invitations[0])
    assert f"/journal/sessions/{ended.meeting_id}/" in text
    assert "What stayed with you" in text  # default prompts
    assert Delivery.objects.filter(kind=Kind.REFLECTION).count() == 2


def test_someone_who_already_reflected_is_not_invited(
    ended: LiveRoom, member: Any, settings: Any
) -> None:
    settings.HEARTH = {**settings.HEARTH, "REFLECTION_DELAY_MINUTES": 0}
    Reflection.objects.create(author=member, meeting=ended.meeting, answers=[])
    _end(ended, timezone.now())
    run_sweep()
    assert sent_to(member.email, "reflect") == []


def test_missed_session_note_once_with_the_next_date(
    ended: LiveRoom, group: Any, settings: Any
) -> None:
    settings.HEARTH = {**settings.HEARTH, "REFLECTION_DELAY_MINUTES": 0}
    absent = MembershipFactory(group=group).user
    RSVP.objects.create(meeting=ended.meeting, user=absent, status=RSVP.Status.GOING)
    upcoming = MeetingFactory(
        group=group, starts_at=timezone.now() + dt.timedelta(days=7)
    )
    _end(ended, timezone.now())
    run_sweep()
    run_sweep()
    (note,) = sent_to(absent.email)
    assert "Thinking of you" in note.subject
    assert f"/sessions/{upcoming.pk}/" in text_of(note)
    assert sent_to(absent.email, "reflect") == []


def test_missed_note_is_a_group_option(
    ended: LiveRoom, group: Any, settings: Any
) -> None:
    settings.HEARTH = {**settings.HEARTH, "REFLECTION_DELAY_MINUTES": 0}
    GroupReminderOptions.objects.create(group=group, missed_follow_up=False)
    absent = MembershipFactory(group=group).user
    RSVP.objects.create(meeting=ended.meeting, user=absent, status=RSVP.Status.GOING)
    _end(ended, timezone.now())
    run_sweep()
    assert sent_to(absent.email) == []


def test_facilitator_summary_counts_without_message_text(
    ended: LiveRoom, group: Any, facilitator: Any, member: Any, settings: Any
) -> None:
    settings.HEARTH = {**settings.HEARTH, "SUMMARY_DELAY_MINUTES": 0}
    others = [MembershipFactory(group=group).user for _ in range(2)]
    for score, user in zip((2, 4, 4), [member, *others], strict=True):
        CheckIn.objects.create(room=ended, user=user, phase="in", score=score)
    CheckIn.objects.create(room=ended, user=member, phase="out", score=5)
    RoomEvent.objects.create(room=ended, seq=1, kind="prompt.shown", data={"index": 1})
    RoomEvent.objects.create(
        room=ended,
        seq=2,
        kind="chat.message",
        data={"text": "a very private sentence"},
        hidden=True,
    )
    FacilitatorAlert.objects.create(room=ended, user=member, kind="moment")
    Reflection.objects.create(
        author=member, meeting=ended.meeting, answers=[], sharing=Sharing.ANONYMOUS
    )
    _end(ended, timezone.now())
    run_sweep()
    run_sweep()
    (summary,) = sent_to(facilitator.email, "summary")
    text = text_of(summary)
    assert "2 attended" in text
    assert "Check-in (3 answers): 1: 0 · 2: 1 · 3: 0 · 4: 2 · 5: 0" in text
    assert "Check-out: fewer than 3 answers" in text
    assert "- Asking" in text
    assert "Needs a moment: 1" in text
    assert "Messages hidden: 1" in text
    assert "1 member shared a reflection" in text
    assert "private sentence" not in text
    assert sent_to(member.email, "summary") == []


# --- Retention -----------------------------------------------------------------
def test_retention_removes_old_chat_text_once(group: Any, settings: Any) -> None:
    settings.HEARTH = {**settings.HEARTH, "RETENTION_DAYS": 30}
    old = LiveRoom.objects.create(
        meeting=MeetingFactory(group=group),
        ended_at=timezone.now() - dt.timedelta(days=31),
    )
    recent = LiveRoom.objects.create(
        meeting=MeetingFactory(group=group),
        ended_at=timezone.now() - dt.timedelta(days=29),
    )
    for room in (old, recent):
        for seq in (1, 2):
            RoomEvent.objects.create(
                room=room,
                seq=seq,
                kind="chat.message",
                data={"text": "words", "name": "A"},
            )
        RoomEvent.objects.create(
            room=room, seq=3, kind="reaction", data={"emoji": "heart"}
        )
    report = apply_retention()
    assert (report.rooms, report.messages) == (1, 2)
    for event in RoomEvent.objects.filter(room=old, kind="chat.message"):
        assert event.hidden and "text" not in event.data
    assert all(
        e.data["text"] == "words"
        for e in RoomEvent.objects.filter(room=recent, kind="chat.message")
    )
    again = apply_retention()
    assert (again.rooms, again.messages) == (0, 0)
