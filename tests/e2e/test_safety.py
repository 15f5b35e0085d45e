"""Safety in the live room, in real browsers on the real platform: the
crisis card in the same round trip, held messages, reports and hiding,
mutes and removal, and axe-core on the safety pages.

Each test runs its own one-off session of "Carrying it all alone", so the
tests don't share a room; a mute is undone before its test ends because
mutes belong to the group, not to one session.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect

from .conftest import HearthServer, ServerErrors, Shots, log_in, poll
from .test_room import (
    DESKTOP,
    FACILITATOR,
    PASSWORD,
    PHONE,
    Console,
    blocking_violations,
    manage_shell,
    open_room,
    send_chat,
)

pytestmark = pytest.mark.e2e

RIVER = ("river@hearth.example", "River Fern")  # United States
KIT = ("kit@hearth.example", "Kit Willow")  # United Kingdom
WREN = ("wren@hearth.example", "Wren Harbour")  # Australia
ADMIN = "admin@hearth.example"
CONCERN = "I feel like such a burden and I don't see the point anymore"
IMMINENT = "I want to end my life tonight"

SESSION = """
import datetime as dt
from django.utils import timezone
from accounts.models import User
from groups.models import Meeting, SupportGroup
from groups.services.scheduling import schedule_meeting
group = SupportGroup.objects.get(slug={group!r})
meeting = Meeting.objects.filter(group=group, title={title!r}).first()
if meeting is None:
    meeting, _ = schedule_meeting(
        group=group,
        by=User.objects.get(email="ada@hearth.example"),
        day=timezone.localdate() + dt.timedelta(days=3),
        at=dt.time(11, 0),
        title={title!r},
    )
print(meeting.pk)
"""


# A group's concern-tier policy, and a word-filter rule that only a made-up
# word trips (rules apply everywhere; this one can't touch other tests).
POLICY = """
from groups.models import SupportGroup
from safety.models import GroupSafetyPolicy
GroupSafetyPolicy.objects.update_or_create(
    group=SupportGroup.objects.get(slug={group!r}),
    defaults={{"concern_action": {action!r}}},
)
"""
BLOCK_RULE = """
from safety.models import WordRule
WordRule.objects.filter(word={word!r}).delete()
if {on!r}:
    WordRule.objects.create(
        word={word!r}, action="block",
        explanation="Please keep codes out of the chat.",
    )
"""
MADE_UP = "zorblaxine"


def one_off_session(
    server: HearthServer, title: str, group: str = "carrying-it-all-alone"
) -> int:
    return int(manage_shell(server, SESSION.format(title=title, group=group)))


@pytest.fixture(autouse=True)
def patient_expect() -> Iterator[None]:
    expect.set_options(timeout=15_000)
    yield
    expect.set_options(timeout=5_000)


class Frames:
    """Every frame a page's room socket received, in order."""

    def __init__(self, page: Page) -> None:
        self.received: list[dict[str, Any]] = []
        page.on("websocket", self._watch)

    def _watch(self, socket: Any) -> None:
        socket.on("framereceived", self._record)

    def _record(self, payload: str | bytes) -> None:
        with contextlib.suppress(ValueError):
            self.received.append(json.loads(payload))

    def after_chat_ack(self) -> list[str]:
        """The types of the frames from the last chat ack on."""
        acks = [
            n
            for n, frame in enumerate(self.received)
            if frame.get("type") == "ack" and frame.get("for") == "chat.send"
        ]
        assert acks, f"no chat ack among {[f.get('type') for f in self.received]}"
        return [str(f.get("type")) for f in self.received[acks[-1] :]]


def start_room(fac: Page) -> None:
    """Open the lobby, start, and let members in as they arrive."""
    fac.get_by_role("button", name="Open the lobby").click()
    expect(fac.locator("#fac-status")).to_have_text("Lobby open")
    fac.get_by_role("button", name="Start the session").click()
    expect(fac.locator("#fac-status")).to_have_text("Live")
    fac.get_by_label("Let group members in automatically").check()
    expect(fac.get_by_label("Let group members in automatically")).to_be_checked()


def enter(page: Page, email: str, meeting_id: int) -> Page:
    open_room(page, email, meeting_id)
    expect(page.locator("#room-body")).to_be_visible()
    return page


def message(page: Page, text: str) -> Any:
    return page.locator("#chat-log .msg").filter(has_text=text)


def close_up(shots: Shots, page: Page, selector: str, step: str) -> None:
    """One part of the page, next to the test's full-page screenshots."""
    shots.count += 1
    name = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
    page.locator(selector).screenshot(
        path=str(shots.directory / f"{shots.count:02d}-{name}.png"),
        animations="disabled",
    )


def test_a_concern_brings_the_crisis_card_and_alerts_the_facilitator(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    shots: Shots,
    server_errors: ServerErrors,
) -> None:
    meeting_id = one_off_session(hearth_server, "Safety check: concern")
    console = Console()
    fac = console.watch(new_context(**DESKTOP).new_page(), "facilitator")
    open_room(fac, FACILITATOR, meeting_id)
    start_room(fac)
    member = console.watch(new_context(**PHONE).new_page(), "member")
    frames = Frames(member)
    enter(member, RIVER[0], meeting_id)

    # The page was loaded long before: the card is drawn from the frame.
    card = member.get_by_role("dialog", name="You don't have to carry this alone")
    expect(card).to_be_hidden()
    send_chat(member, CONCERN)

    # The card for the United States, at once, with focus on its heading.
    expect(card).to_be_visible()
    expect(member.locator("#crisis-title")).to_be_focused()
    expect(card).to_contain_text("people do get through moments like this")
    call = card.get_by_role("link", name="Call 988")
    expect(call).to_have_attribute("href", "tel:988")
    expect(card.get_by_role("link", name=re.compile(r"^Text "))).not_to_have_count(0)
    expect(card).to_contain_text("In immediate danger? Call 911")
    expect(card).to_contain_text(re.compile(r"Last checked \d{4}-\d\d-\d\d"))
    support = card.get_by_role("link", name="Get support")
    expect(support).to_have_attribute("href", re.compile(r"^/support/\?country=US$"))
    # Same round trip: the card is the very next frame after the ack.
    assert frames.after_chat_ack()[:2] == ["ack", "crisis_card"]
    shots(member, "member sees the crisis card")
    close_up(shots, member, "#crisis", "the crisis card on a phone")

    # The facilitator gets a private alert in plain words, without the text.
    safety = fac.locator("#fac-safety")
    expect(safety).to_contain_text(f"{RIVER[1]} may be struggling.")
    expect(safety.locator(".badge")).to_have_text("Concern")
    expect(safety).not_to_contain_text("burden")
    # The group's default policy: the message is delivered.
    expect(fac.locator("#chat-log")).to_contain_text(CONCERN)
    shots(fac, "facilitator sees the safety alert")
    close_up(shots, fac, "#fac-safety-block", "the safety alert")

    # The rest of the room stays usable while the card is open.
    member.get_by_role("button", name="Send a heart").click()
    expect(fac.locator("#chat-log")).to_contain_text(f"{RIVER[1]} sent heart")

    # Closing the card returns the keyboard to the composer.
    card.get_by_role("button", name="Close").click()
    expect(card).to_be_hidden()
    expect(member.get_by_label("Message to the group")).to_be_focused()

    fac.locator("#fac-safety").get_by_role(
        "button", name=re.compile("^Acknowledge")
    ).click()
    expect(fac.locator("#fac-safety li")).to_have_count(0)
    expect(fac.locator("#fac-safety-empty")).to_be_visible()

    server_errors.check()
    assert console.problems == []


def test_an_imminent_message_is_held_and_rejected(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    shots: Shots,
    server_errors: ServerErrors,
) -> None:
    meeting_id = one_off_session(hearth_server, "Safety check: held")
    console = Console()
    fac = console.watch(new_context(**DESKTOP).new_page(), "facilitator")
    open_room(fac, FACILITATOR, meeting_id)
    start_room(fac)
    sender = console.watch(new_context(**DESKTOP).new_page(), "sender")
    other = console.watch(new_context(**PHONE).new_page(), "other member")
    enter(sender, KIT[0], meeting_id)
    enter(other, RIVER[0], meeting_id)
    send_chat(other, "Evening, everyone.")
    expect(sender.locator("#chat-log")).to_contain_text("Evening, everyone.")

    # Held: the box clears, the sender is told gently, and sees the card
    # for the United Kingdom with "a facilitator has been told".
    send_chat(sender, IMMINENT)
    card = sender.locator("#crisis")
    expect(card).to_be_visible()
    expect(card).to_contain_text("A facilitator has been told")
    expect(card.get_by_role("link", name="Call 116 123")).to_have_attribute(
        "href", "tel:116123"
    )
    expect(card).to_contain_text("Call 999")
    expect(sender.locator("#composer-notice")).to_contain_text(
        "Your message is waiting for a facilitator"
    )
    shots(sender, "sender sees the card for the UK")

    # The facilitator: an urgent alert first, then the held message.
    safety = fac.locator("#fac-safety")
    expect(safety).to_contain_text(f"{KIT[1]} may be in danger right now.")
    expect(safety.locator(".badge")).to_have_text("Urgent")
    held = fac.locator("#fac-held li")
    expect(held).to_have_count(1)
    expect(held).to_contain_text(KIT[1])
    expect(held).to_contain_text(IMMINENT)
    shots(fac, "facilitator sees the held message")
    close_up(shots, fac, "#fac", "the panel with an urgent alert and a held message")
    close_up(shots, sender, ".chat", "the sender's composer after holding")

    held.get_by_role("button", name=f"Reject the message from {KIT[1]}").click()
    expect(held).to_have_count(0)
    expect(fac.locator("#fac-held-empty")).to_be_visible()

    # Nobody in the group ever saw it.
    send_chat(fac, "Thank you for being here.")
    for page in (other, fac, sender):
        expect(page.locator("#chat-log")).to_contain_text("Thank you for being here.")
        expect(page.locator("#chat-log")).not_to_contain_text(IMMINENT)
    fac.locator("#fac-safety").get_by_role(
        "button", name=re.compile("^Acknowledge")
    ).click()
    expect(fac.locator("#fac-safety li")).to_have_count(0)

    server_errors.check()
    assert console.problems == []


def test_a_content_note_and_a_blocked_message(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    shots: Shots,
    server_errors: ServerErrors,
) -> None:
    """Quiet Harbour shows concern-level messages behind a content note;
    a word-filter block keeps the words in the box and says why."""
    group = "quiet-harbour"
    meeting_id = one_off_session(hearth_server, "Safety check: note", group)
    manage_shell(hearth_server, POLICY.format(group=group, action="note"))
    manage_shell(hearth_server, BLOCK_RULE.format(word=MADE_UP, on=True))
    try:
        console = Console()
        fac = console.watch(new_context(**DESKTOP).new_page(), "facilitator")
        open_room(fac, FACILITATOR, meeting_id)
        start_room(fac)
        member = console.watch(new_context(**DESKTOP).new_page(), "member")
        enter(member, KIT[0], meeting_id)

        send_chat(member, CONCERN)
        expect(member.locator("#crisis")).to_be_visible()
        member.locator("#crisis").get_by_role("button", name="Close").click()
        # The author reads their own words, and knows what others see.
        own = message(member, CONCERN)
        expect(own.locator(".msg-text")).to_be_visible()
        expect(own).to_contain_text("Others see this behind a content note.")
        # Everyone else decides for themselves.
        noted = fac.locator("#chat-log .msg").filter(has_text=KIT[1]).last
        toggle = noted.get_by_role(
            "button", name="This message may be hard to read — show it"
        )
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(noted.locator(".msg-text")).to_be_hidden()
        close_up(shots, fac, ".chat", "a message behind a content note")
        toggle.click()
        expect(noted.locator(".msg-text")).to_have_text(CONCERN)
        shown = noted.get_by_role("button", name="Hide it again")
        expect(shown).to_have_attribute("aria-expanded", "true")
        expect(shown).to_be_focused()
        shown.click()
        expect(noted.locator(".msg-text")).to_be_hidden()

        # Blocked: nothing lost, and a kind word on why. (Processes pick up a
        # new rule within a few seconds: until then the word goes through.)
        box = member.get_by_label("Message to the group")
        notice = member.locator("#composer-notice")
        for attempt in range(20):
            words = f"my code is {MADE_UP} {attempt}"
            box.fill(words)
            member.get_by_role("button", name="Send", exact=True).click()
            expect(box).to_be_editable()
            answered = poll(
                lambda: notice.inner_text() or not box.input_value(), timeout=10
            )
            if answered and notice.inner_text():
                break
            time.sleep(1)
        expect(notice).to_contain_text("Please keep codes out of the chat.")
        expect(box).to_have_value(words)
        expect(notice.get_by_role("link", name="Get support")).to_have_attribute(
            "href", "/support/"
        )
        close_up(shots, member, ".chat", "a blocked message keeps its words")
        expect(fac.locator("#chat-log")).not_to_contain_text(words)
        box.fill("")

        # "Hold every concern-tier message": held, then approved by a
        # facilitator, and published as the member's own.
        manage_shell(hearth_server, POLICY.format(group=group, action="hold"))
        waiting = "Some days I wish I could just disappear"
        send_chat(member, waiting)
        expect(notice).to_contain_text("before the group sees it")
        expect(member.locator("#crisis")).to_be_visible()
        held = fac.locator("#fac-held li")
        expect(held).to_contain_text(waiting)
        expect(held).to_contain_text("held for review")
        held.get_by_role("button", name=f"Approve the message from {KIT[1]}").click()
        expect(held).to_have_count(0)
        expect(member.locator("#chat-log")).to_contain_text(waiting)
        expect(fac.locator("#chat-log")).to_contain_text(waiting)
        server_errors.check()
        assert console.problems == []
    finally:
        manage_shell(hearth_server, BLOCK_RULE.format(word=MADE_UP, on=False))
        manage_shell(hearth_server, POLICY.format(group=group, action="deliver"))


def test_a_reported_message_is_hidden_for_everyone_and_audited(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    shots: Shots,
    server_errors: ServerErrors,
) -> None:
    meeting_id = one_off_session(hearth_server, "Safety check: report")
    unkind = "Nobody here listens, you are all useless."
    console = Console()
    fac = console.watch(new_context(**DESKTOP).new_page(), "facilitator")
    open_room(fac, FACILITATOR, meeting_id)
    start_room(fac)
    author = console.watch(new_context(**DESKTOP).new_page(), "author")
    reporter = console.watch(new_context(**PHONE).new_page(), "reporter")
    third = console.watch(new_context(**DESKTOP).new_page(), "third member")
    # The reporter's socket goes through the test, to cut it later.
    routes: list[WebSocketRoute] = []
    refusing = {"on": False}

    def through(route: WebSocketRoute) -> None:
        routes.append(route)
        if refusing["on"]:
            route.close(code=1013, reason="test")
            return
        route.connect_to_server()

    reporter.route_web_socket(re.compile(r"/ws/sessions/\d+/$"), through)
    enter(author, RIVER[0], meeting_id)
    enter(reporter, KIT[0], meeting_id)
    enter(third, WREN[0], meeting_id)
    send_chat(author, unkind)
    for page in (reporter, third, fac):
        expect(page.locator("#chat-log")).to_contain_text(unkind)
    # Nobody reports their own message.
    expect(
        message(author, unkind).get_by_role("button", name=re.compile("^Report"))
    ).to_have_count(0)

    # The reporter reports it with a reason and a note.
    message(reporter, unkind).get_by_role(
        "button", name=re.compile(f"^Report the message from {RIVER[1]}")
    ).click()
    form = reporter.get_by_role("form", name="Report a message")
    expect(form).to_be_visible()
    expect(reporter.locator("#report-title")).to_be_focused()
    form.get_by_label("Harassment or a personal attack").check()
    form.get_by_label(re.compile("Anything a facilitator should know")).fill(
        "It felt aimed at me."
    )
    shots(reporter, "reporter fills in the report")
    close_up(shots, reporter, ".chat", "the report form")
    form.get_by_role("button", name="Send report").click()
    expect(reporter.locator("#report-thanks")).to_have_text(
        "Thank you. A facilitator will look at it. The author won't know who reported."
    )
    expect(form).to_be_hidden()
    expect(message(reporter, unkind)).to_contain_text("Reported")
    expect(author.locator("#room")).not_to_contain_text("Reported")
    shots(reporter, "reporter is thanked")

    # The reporter's connection drops; the message is hidden meanwhile.
    refusing["on"] = True
    routes[-1].close(code=1012, reason="test")
    expect(reporter.locator("#connection")).to_have_text("Reconnecting…")
    message(fac, unkind).get_by_role(
        "button", name=re.compile(f"^Hide the message from {RIVER[1]}")
    ).click()
    tombstone = "This message was hidden by a facilitator"
    for page in (author, third, fac):
        expect(page.locator("#chat-log")).to_contain_text(tombstone)
        expect(page.locator("#chat-log")).not_to_contain_text(unkind)
    shots(third, "third member sees the tombstone")
    close_up(shots, fac, ".chat", "the facilitator's conversation with a tombstone")
    # Back again: resume brings the hide, in order.
    refusing["on"] = False
    expect(reporter.locator("#connection")).to_have_text("Connected", timeout=40_000)
    expect(reporter.locator("#chat-log")).to_contain_text(tombstone)
    expect(reporter.locator("#chat-log")).not_to_contain_text(unkind)
    # A reload draws the history with the tombstone too.
    third.reload()
    expect(third.locator("#connection")).to_have_text("Connected")
    expect(third.locator("#chat-log")).to_contain_text(tombstone)
    expect(third.locator("#chat-log")).not_to_contain_text(unkind)

    # Unhidden: restored for everyone.
    message(fac, tombstone).get_by_role(
        "button", name=re.compile(f"^Unhide the message from {RIVER[1]}")
    ).click()
    for page in (author, reporter, third, fac):
        expect(page.locator("#chat-log")).to_contain_text(unkind)
        expect(page.locator("#chat-log")).not_to_contain_text(tombstone)

    # Staff see the report and the hide in the audit log, without the text.
    staff = new_context(**DESKTOP).new_page()
    log_in(staff, ADMIN, PASSWORD)
    staff.goto("/admin/safety/auditlog/")
    rows = staff.locator("#result_list tbody tr")
    expect(rows.filter(has_text="report.create").first).to_be_visible()
    expect(rows.filter(has_text="message.hide").first).to_be_visible()
    expect(rows.filter(has_text="message.unhide").first).to_be_visible()
    expect(staff.locator("#content")).not_to_contain_text("useless")
    expect(staff.locator("#content")).not_to_contain_text("aimed at me")
    shots(staff, "audit log")

    server_errors.check()
    assert console.problems == []


def test_a_hidden_message_leaves_no_text_in_history(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
) -> None:
    """Hidden, shown again, hidden again: a fresh page's snapshot must not
    carry the text anywhere (docs/protocol.md: history shows a tombstone).
    The page itself draws the tombstone either way; test (c) checks that."""
    meeting_id = one_off_session(hearth_server, "Safety check: rehide")
    secret = "A sentence that was hidden twice."
    fac = new_context(**DESKTOP).new_page()
    open_room(fac, FACILITATOR, meeting_id)
    start_room(fac)
    member = enter(new_context(**DESKTOP).new_page(), RIVER[0], meeting_id)
    send_chat(member, secret)
    tombstone = "This message was hidden by a facilitator"
    for action, shown in (("Hide", tombstone), ("Unhide", secret), ("Hide", tombstone)):
        message(fac, secret if action == "Hide" else tombstone).get_by_role(
            "button", name=re.compile(f"^{action} the message")
        ).click()
        expect(member.locator("#chat-log .msg").last).to_contain_text(shown)
    late = new_context(**DESKTOP).new_page()
    frames = Frames(late)
    enter(late, KIT[0], meeting_id)
    expect(late.locator("#chat-log")).to_contain_text(tombstone)
    expect(late.locator("#chat-log")).not_to_contain_text(secret)
    snapshot = next(f for f in frames.received if f.get("type") == "snapshot")
    assert secret not in json.dumps(snapshot), (
        "the snapshot's history still carries a hidden message's text"
    )


def test_a_muted_member_sees_when_they_can_write_again(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    shots: Shots,
    server_errors: ServerErrors,
) -> None:
    meeting_id = one_off_session(hearth_server, "Safety check: mute")
    zone = "Australia/Lord_Howe"  # half-hour offsets: local time, not UTC
    console = Console()
    fac = console.watch(new_context(**DESKTOP).new_page(), "facilitator")
    open_room(fac, FACILITATOR, meeting_id)
    start_room(fac)
    member = console.watch(new_context(timezone_id=zone, **PHONE).new_page(), "member")
    enter(member, WREN[0], meeting_id)
    send_chat(member, "Hello from the other side of the world.")
    box = member.get_by_label("Message to the group")

    people = fac.locator("#people-list")
    people.get_by_role("button", name=f"Moderate {WREN[1]}").click()
    expect(people.get_by_role("button", name=f"Moderate {WREN[1]}")).to_have_attribute(
        "aria-expanded", "true"
    )
    shots(fac, "facilitator opens moderation for a member")
    close_up(shots, fac, ".people", "moderation controls for a member")
    muted_at = dt.datetime.now(ZoneInfo(zone))
    people.get_by_role("button", name=f"Mute {WREN[1]} for 5 min").click()

    expect(box).to_be_disabled()
    expect(member.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    note = member.locator("#composer-muted")
    expect(note).to_contain_text(re.compile(r"You can write again at \d\d:\d\d\."))
    shown = re.search(r"again at (\d\d:\d\d)", note.inner_text())
    assert shown
    expected = {
        (muted_at + dt.timedelta(minutes=5 + delta)).strftime("%H:%M")
        for delta in (-1, 0, 1)
    }
    assert shown.group(1) in expected, (shown.group(1), expected)
    expect(people).to_contain_text(re.compile(r"Muted until \d\d:\d\d"))
    shots(member, "member is muted")
    close_up(shots, member, ".composer", "the muted composer")

    # Unmuted: the composer is back at once.
    people.get_by_role("button", name=f"Unmute {WREN[1]}").click()
    expect(box).to_be_enabled()
    expect(note).to_be_hidden()
    send_chat(member, "Thank you.")
    expect(fac.locator("#chat-log")).to_contain_text("Thank you.")

    # Removing someone asks first, and can be cancelled.
    people.get_by_role("button", name=f"Remove from session… {WREN[1]}").click()
    expect(people).to_contain_text(f"Remove {WREN[1]} from this session?")
    people.get_by_role("button", name="Cancel").click()
    expect(member.locator("#room-body")).to_be_visible()
    people.get_by_role("button", name=f"Remove from session… {WREN[1]}").click()
    people.get_by_role(
        "button", name=f"Yes, remove {WREN[1]} from this session"
    ).click()
    expect(
        member.get_by_role("heading", name="This room isn't available to you")
    ).to_be_visible()
    expect(fac.locator("#people-list")).not_to_contain_text(WREN[1])

    server_errors.check()
    assert console.problems == []


@pytest.mark.parametrize(
    ("viewer", "path"),
    [
        ("visitor", "/support/"),
        ("member", "/support/"),
        ("facilitator", "/moderation/"),
    ],
)
def test_safety_pages_have_no_serious_axe_violations(
    new_context: Callable[..., BrowserContext],
    shots: Shots,
    viewer: str,
    path: str,
) -> None:
    page = new_context(bypass_csp=True, **DESKTOP).new_page()
    if viewer == "member":
        log_in(page, RIVER[0], PASSWORD)
    elif viewer == "facilitator":
        log_in(page, FACILITATOR, PASSWORD)
    page.goto(path)
    expect(page.locator("h1")).to_be_visible()
    shots(page, f"{path.strip('/')} as {viewer}")
    assert blocking_violations(page) == []


def test_the_room_with_a_crisis_card_has_no_serious_axe_violations(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    shots: Shots,
) -> None:
    meeting_id = one_off_session(hearth_server, "Safety check: axe")
    fac = new_context(bypass_csp=True, **DESKTOP).new_page()
    open_room(fac, FACILITATOR, meeting_id)
    start_room(fac)
    member = enter(
        new_context(bypass_csp=True, **PHONE).new_page(), RIVER[0], meeting_id
    )
    other = enter(
        new_context(bypass_csp=True, **DESKTOP).new_page(), KIT[0], meeting_id
    )
    send_chat(other, "Glad you're here.")
    send_chat(member, CONCERN)
    expect(member.locator("#crisis")).to_be_visible()
    send_chat(member, IMMINENT)
    expect(member.locator("#crisis")).to_contain_text("A facilitator has been told")
    expect(fac.locator("#fac-held li")).to_have_count(1)
    expect(fac.locator("#fac-safety li")).to_have_count(2)
    fac.locator("#people-list").get_by_role(
        "button", name="Moderate River Fern"
    ).click()
    message(member, "Glad you're here.").get_by_role(
        "button", name=re.compile("^Report")
    ).click()
    shots(member, "member with the crisis card and the report form")
    shots(fac, "facilitator with safety and held messages")
    assert blocking_violations(member) == [], "member with a crisis card open"
    assert blocking_violations(fac) == [], "facilitator with alerts and held"
    # The same card on a desktop.
    member.set_viewport_size({"width": 1280, "height": 900})
    member.locator("#crisis").scroll_into_view_if_needed()
    time.sleep(0.3)
    shots(member, "member with the crisis card on a desktop")
    close_up(shots, member, "#crisis", "the crisis card on a desktop")
