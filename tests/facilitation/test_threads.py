"""Private threads without sockets: retention, what moderators may see (that
a thread exists, never its words) and logs (docs/safety.md)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from facilitation.models import LiveRoom, PrivateThread, ThreadMessage
from facilitation.services import threads
from facilitation.services.rooms import Participant, participant, room_for
from reminders.services.retention import apply_retention
from reminders.services.summary import summarise
from reminders.tasks import apply_retention as retention_task
from safety.models import SafetyAlert
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db

SENTINEL = "zebra-lantern-4471"
CONCERN = f"I feel like such a burden and I don't see the point anymore {SENTINEL}"


def live_room(meeting: Any) -> LiveRoom:
    room = room_for(meeting)
    room.state = {**room.state, "status": "live"}
    room.save(update_fields=["state"])
    return room


def who(meeting: Any, user: Any) -> Participant:
    return participant(meeting_id=meeting.pk, user=user)


def a_thread_with_words(
    meeting: Any, facilitator: Any, member: Any, text: str = CONCERN
) -> PrivateThread:
    live_room(meeting)
    thread_id = threads.open_thread(who=who(meeting, facilitator), user_id=member.pk)
    sent = threads.send_to_thread(
        who=who(meeting, member), thread_id=thread_id, text=text, client_msg_id="t-1"
    )
    assert sent.status == "delivered" and sent.message_id
    return PrivateThread.objects.get(pk=thread_id)


def test_retention_deletes_thread_lines_with_the_sessions_chat(
    group: Any, facilitator: Any, member: Any, settings: Any
) -> None:
    """P-07: once the session's chat goes, its thread lines go; the recent
    session's stay; running it again changes nothing."""
    settings.HEARTH = {**settings.HEARTH, "RETENTION_DAYS": 30}
    old = a_thread_with_words(MeetingFactory(group=group), facilitator, member)
    recent = a_thread_with_words(MeetingFactory(group=group), facilitator, member)
    LiveRoom.objects.filter(pk=old.room_id).update(
        ended_at=timezone.now() - dt.timedelta(days=31)
    )
    LiveRoom.objects.filter(pk=recent.room_id).update(
        ended_at=timezone.now() - dt.timedelta(days=29)
    )
    report = apply_retention()
    assert report.thread_messages == 1
    assert not ThreadMessage.objects.filter(thread=old).exists()
    assert ThreadMessage.objects.filter(thread=recent).count() == 1
    # The thread stays as a fact, without its words.
    assert PrivateThread.objects.filter(pk=old.pk).exists()
    assert retention_task()["thread_messages"] == 0


def test_the_facilitator_summary_counts_threads_without_their_words(
    group: Any, facilitator: Any, member: Any
) -> None:
    meeting = MeetingFactory(group=group)
    a_thread_with_words(meeting, facilitator, member)
    summary = summarise(meeting)
    assert summary.private_threads == 1
    from django.template.loader import render_to_string

    for name in ("summary.txt", "summary.html"):
        text = render_to_string(
            f"reminders/email/{name}",
            {"summary": summary, "meeting": meeting, "when": "", "shared_url": "/"},
        )
        assert "1 private thread" in text
        assert SENTINEL not in text


def test_moderators_see_that_a_thread_exists_never_its_text(
    group: Any, facilitator: Any, member: Any, staff: Any
) -> None:
    """Admin lists the thread and counts its lines; thread lines have no
    admin page; the moderation queue shows the alert as from a private
    thread, without the words."""
    thread = a_thread_with_words(MeetingFactory(group=group), facilitator, member)
    assert SafetyAlert.objects.get().source == "thread"
    client = Client()
    client.force_login(staff)
    pages = [
        "/admin/facilitation/privatethread/",
        f"/admin/facilitation/privatethread/{thread.pk}/change/",
        "/moderation/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert SENTINEL not in response.content.decode(), path
    change = client.get(pages[1]).content.decode()
    assert "Lines (text not shown)" in change
    queue = client.get("/moderation/").content.decode()
    assert "from a private thread" in queue
    assert client.get("/admin/facilitation/threadmessage/").status_code == 404


def test_thread_text_is_never_logged(
    group: Any, facilitator: Any, member: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """P-08, for thread lines: delivered, held and blocked alike."""
    caplog.set_level(logging.DEBUG)
    meeting = MeetingFactory(group=group)
    thread = a_thread_with_words(meeting, facilitator, member)
    held = threads.send_to_thread(
        who=who(meeting, member),
        thread_id=thread.pk,
        text=f"I have the pills and I'm doing it tonight {SENTINEL}",
        client_msg_id="t-2",
    )
    assert held.status == "held" and held.message_id is None
    assert "thread line" in caplog.text
    assert SENTINEL not in caplog.text


def test_a_resend_with_the_same_client_id_is_stored_once(
    group: Any, facilitator: Any, member: Any
) -> None:
    meeting = MeetingFactory(group=group)
    thread = a_thread_with_words(meeting, facilitator, member)
    again = threads.send_to_thread(
        who=who(meeting, member), thread_id=thread.pk, text=CONCERN, client_msg_id="t-1"
    )
    assert again.message_id == thread.messages.get().pk
    assert SafetyAlert.objects.get().count == 1


def test_standing_is_rechecked_on_every_thread_command(
    group: Any, facilitator: Any, cofacilitator: Any, member: Any, member2: Any
) -> None:
    """The rules without sockets: the member and any facilitator may; another
    member may not (and learns nothing); a co-facilitator demoted after the
    Participant was resolved may not either."""
    from facilitation.room import TransitionError
    from groups.models import Membership

    meeting = MeetingFactory(group=group)
    thread = a_thread_with_words(meeting, facilitator, member, text="hello")
    co, other = who(meeting, cofacilitator), who(meeting, member2)
    threads.send_to_thread(who=co, thread_id=thread.pk, text="hi", client_msg_id="")
    with pytest.raises(TransitionError) as refused:
        threads.open_thread(who=other, user_id=member.pk)
    assert refused.value.code == "forbidden"
    for call in (
        lambda: threads.send_to_thread(
            who=other, thread_id=thread.pk, text="hi", client_msg_id=""
        ),
        lambda: threads.close_thread(who=other, thread_id=thread.pk),
    ):
        with pytest.raises(TransitionError) as caught:
            call()
        assert (caught.value.code, caught.value.detail) == (
            "not_found",
            threads.NOT_FOUND,
        )
    Membership.objects.filter(group=group, user=cofacilitator).update(role="member")
    with pytest.raises(TransitionError) as demoted:
        threads.close_thread(who=co, thread_id=thread.pk)
    assert demoted.value.code == "not_found"
    assert threads.open_threads(who=co) == []
    assert [t["id"] for t in threads.open_threads(who=who(meeting, member))] == [
        thread.pk
    ]
    assert thread.messages.count() == 2
