"""The safety net end to end, in two real browsers on the real platform: a
member's message the screener is unsure about brings only them a gentle
check-in; "I'd like support" shows them the crisis card and alerts the
facilitator, whose tab is in the background and gets a count in its title;
the facilitator reaches out in a private thread and the member answers
(docs/safety.md: "Asking for help", "Alert delivery", "Private threads")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from safety.screening import screen

from .conftest import HearthServer, ServerErrors, Shots
from .test_alert_attention import SET_VISIBILITY
from .test_room import DESKTOP, FACILITATOR, PHONE, Console, open_room, send_chat
from .test_safety import RIVER, enter, message, one_off_session, start_room

pytestmark = pytest.mark.e2e

# A line the shipped screener flags as unsure (tier none, uncertain): the
# first assertion says so, so a retrained model that changes its mind fails
# here with a clear message rather than somewhere in the browser.
UNSURE = "idk how much more i can take"


def test_an_unsure_message_brings_a_check_in_then_support_then_a_private_thread(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    shots: Shots,
    server_errors: ServerErrors,
) -> None:
    verdict = screen(UNSURE)
    assert (verdict.tier, verdict.uncertain) == ("none", True), verdict

    meeting_id = one_off_session(hearth_server, "Safety check: gentle check-in")
    console = Console()
    fac = console.watch(new_context(**DESKTOP).new_page(), "facilitator")
    open_room(fac, FACILITATOR, meeting_id)
    start_room(fac)
    title = fac.title()
    fac.evaluate(SET_VISIBILITY, True)  # the facilitator's tab goes to the background

    member = console.watch(new_context(**PHONE).new_page(), "member")
    enter(member, RIVER[0], meeting_id)
    send_chat(member, UNSURE)

    # Only the sender is asked; the message reaches the group as usual.
    checkin = member.locator("#gentle-checkin-title")
    expect(checkin).to_have_text("That sounded heavy. Are you okay?")
    expect(message(fac, UNSURE)).to_have_count(1)
    expect(fac.locator("#gentle-checkin-title")).to_be_hidden()
    expect(fac.locator("#fac-safety")).not_to_contain_text(RIVER[1])
    assert fac.title() == title
    shots(member, "member is gently asked")

    member.get_by_role("button", name="I'd like support").click()
    expect(member.locator(".crisis-card").first).to_be_visible()
    expect(fac.locator("#fac-safety")).to_contain_text(
        f"{RIVER[1]} would like support."
    )
    expect(fac).to_have_title(f"(1) {title}")
    shots(fac, "facilitator alerted in a background tab")

    # Back to the tab: the count goes, and the facilitator reaches out.
    fac.evaluate(SET_VISIBILITY, False)
    expect(fac).to_have_title(title)
    fac.locator("#fac-safety").get_by_role(
        "button", name=f"Reach out privately to {RIVER[1]}"
    ).first.click()
    box = fac.get_by_label(f"Message to {RIVER[1]}, privately")
    box.fill("Thank you for telling us. I'm here. How are you right now?")
    box.press("Enter")

    panel = member.get_by_role("region", name="A private check-in")
    expect(panel).to_contain_text("How are you right now?")
    reply = member.get_by_label("Your reply (only the facilitators see it)")
    reply.fill("a bit better now someone knows")
    member.get_by_role("button", name="Send privately").click()
    thread = fac.get_by_role("region", name=f"Private thread with {RIVER[1]}")
    expect(thread).to_contain_text("a bit better now someone knows")
    expect(fac.locator("#chat-log")).not_to_contain_text("someone knows")
    shots(fac, "facilitator and member talk privately")

    server_errors.check()
    assert console.problems == []
