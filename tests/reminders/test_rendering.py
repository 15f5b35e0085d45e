"""What the emails say and how they are built: no HTML or header injection
from names, valid invitations, one-click unsubscribe headers, safe
messaging in every email."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from groups.models import Meeting, Membership
from groups.services.scheduling import cancel_meeting
from reminders.models import Delivery, Kind
from reminders.services import deliver
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

from .conftest import html_of, ics_of, parsed, text_of

pytestmark = pytest.mark.django_db

EVIL_NAME = '<img src=x onerror="alert(1)">Robin</b>'
EVIL_HEADER = "Circle\r\nBcc: everyone@example.org\r\nX-Evil: 1"


def _delivery(meeting: Meeting, user: Any, kind: str = Kind.REMINDER) -> Delivery:
    now = timezone.now()
    return Delivery.objects.create(
        meeting=meeting,
        user=user,
        kind=kind,
        offset_minutes=60 if kind == Kind.REMINDER else 0,
        sequence=meeting.sequence,
        due_at=now,
        send_after=now,
    )


@pytest.fixture
def meeting(group: Any, facilitator: Any) -> Meeting:
    return MeetingFactory(
        group=group,
        starts_at=timezone.now() + dt.timedelta(minutes=50),
        description="Bring a cup of tea.",
    )


def test_names_cannot_inject_html(group: Any, meeting: Meeting) -> None:
    group.name = "<script>alert('group')</script> Circle"
    group.save()
    user = UserFactory()
    Membership.objects.create(group=group, user=user, display_name="")
    type(user).objects.filter(pk=user.pk).update(display_name=EVIL_NAME)
    meeting.title = "<b>bold</b> session"
    meeting.description = "<a href='javascript:x'>click</a>"
    meeting.save()
    user.refresh_from_db()
    deliver.send(delivery_id=_delivery(meeting, user).pk)
    (message,) = mail.outbox
    html = html_of(message)
    assert "<script>" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;" in html
    assert "&lt;img src=x" in html
    assert "javascript:" not in html.replace("&#x27;javascript:", "")
    # The plain-text part shows the words as written.
    assert "<b>bold</b> session" in text_of(message)


def test_names_cannot_inject_headers(group: Any, meeting: Meeting) -> None:
    group.name = EVIL_HEADER
    group.save()
    meeting.title = EVIL_HEADER
    meeting.save()
    user = UserFactory()
    Membership.objects.create(group=group, user=user)
    type(user).objects.filter(pk=user.pk).update(display_name="Sam\r\nBcc: x@y.z")
    user.refresh_from_db()
    deliver.send(delivery_id=_delivery(meeting, user).pk)
    (message,) = mail.outbox
    assert message.recipients() == [user.email]
    head = message.message().as_bytes().split(b"\n\n", 1)[0]
    assert b"\nBcc:" not in head and b"\nX-Evil:" not in head
    headers = parsed(message)
    assert headers["Bcc"] is None and headers["X-Evil"] is None
    assert "\n" not in str(headers["Subject"]) and "\r" not in str(headers["Subject"])
    # The invitation's names are flattened too.
    _, content = ics_of(message)
    cal = icalendar.Calendar.from_ical(content)
    (event,) = cal.walk("VEVENT")
    assert "\n" not in str(event["summary"])


def test_reminder_carries_a_valid_request_invitation(
    group: Any, meeting: Meeting, member: Any
) -> None:
    meeting.sequence = 3
    meeting.save()
    deliver.send(delivery_id=_delivery(meeting, member).pk)
    (message,) = mail.outbox
    method, content = ics_of(message)
    assert method == "REQUEST"
    cal = icalendar.Calendar.from_ical(content)
    assert str(cal["method"]) == "REQUEST"
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    (event,) = cal.walk("VEVENT")
    assert str(event["uid"]) == meeting.uid
    assert int(event["sequence"]) == 3
    assert event.decoded("dtstart") == meeting.starts_at.replace(microsecond=0)
    assert str(event.decoded("dtstart").tzinfo) == "Europe/Berlin"
    assert str(event["attendee"]) == f"mailto:{member.email}"
    assert str(event["organizer"]).startswith("mailto:")
    assert str(event["status"]) == "CONFIRMED"


def test_cancellation_carries_a_cancel_with_the_same_uid(
    group: Any, meeting: Meeting, member: Any, facilitator: Any
) -> None:
    cancel_meeting(meeting=meeting, by=facilitator)
    meeting.refresh_from_db()
    deliver.send(delivery_id=_delivery(meeting, member, Kind.CANCELLATION).pk)
    (message,) = mail.outbox
    method, content = ics_of(message)
    assert method == "CANCEL"
    cal = icalendar.Calendar.from_ical(content)
    assert str(cal["method"]) == "CANCEL"
    (event,) = cal.walk("VEVENT")
    assert str(event["uid"]) == meeting.uid
    assert int(event["sequence"]) == meeting.sequence == 1
    assert str(event["status"]) == "CANCELLED"
    assert cal.walk("VTIMEZONE")


@pytest.mark.parametrize("kind", [Kind.REMINDER, Kind.REFLECTION, Kind.MISSED])
def test_every_email_has_help_hope_and_one_click_unsubscribe(
    group: Any, member: Any, kind: str
) -> None:
    past = kind != Kind.REMINDER
    meeting = MeetingFactory(
        group=group,
        starts_at=timezone.now() + dt.timedelta(hours=-3 if past else 1),
    )
    if kind == Kind.MISSED:
        MeetingFactory(group=group, starts_at=timezone.now() + dt.timedelta(days=6))
    deliver.send(delivery_id=_delivery(meeting, member, kind).pk)
    (message,) = mail.outbox
    for body in (text_of(message), html_of(message)):
        assert "Need more support?" in body
        assert "http://127.0.0.1:8000/support/" in body
        assert "you don't have to carry it alone" in body
    headers = parsed(message)
    unsubscribe = str(headers["List-Unsubscribe"])
    assert unsubscribe.startswith("<http://127.0.0.1:8000/unsubscribe/")
    assert str(headers["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    assert str(headers["Message-ID"]).startswith("<delivery-")


def test_reminder_says_what_the_issue_asks(group: Any, member: Any) -> None:
    from prompts.models import PlanAssignment, SessionPlan

    meeting = MeetingFactory(
        group=group,
        starts_at=timezone.now() + dt.timedelta(hours=1),
        description="We'll start gently.",
    )
    plan = SessionPlan.objects.create(title="Slow evening", owner=None, group=group)
    PlanAssignment.objects.create(plan=plan, meeting=meeting)
    deliver.send(delivery_id=_delivery(meeting, member).pk)
    text = text_of(mail.outbox[0])
    assert "We'll start gently." in text
    assert "Session plan: Slow evening" in text
    assert f"/sessions/{meeting.pk}/room/" in text
    assert "(Europe/London, UTC" in text  # the member's zone


def test_display_name_in_group_is_used(group: Any, meeting: Meeting) -> None:
    membership = MembershipFactory(group=group, display_name="Wren")
    deliver.send(delivery_id=_delivery(meeting, membership.user).pk)
    assert text_of(mail.outbox[0]).startswith("Hello Wren,")
