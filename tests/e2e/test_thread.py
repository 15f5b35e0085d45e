"""A private thread in two real browsers: the facilitator reaches out from
the people list, the member answers and closes it, all with the keyboard
(docs/protocol.md, "Private threads")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from .conftest import HearthServer, ServerErrors, Shots
from .test_room import (
    DESKTOP,
    FACILITATOR,
    MEMBER,
    MEMBER_NAME,
    PHONE,
    Console,
    admit,
    blocking_violations,
    open_and_start,
    open_room,
    session_with_plan,
)

pytestmark = pytest.mark.e2e

INVITE = "A facilitator would like to check in with you privately."


def test_a_facilitator_reaches_out_privately_and_the_member_answers(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    shots: Shots,
    server_errors: ServerErrors,
) -> None:
    meeting_id = session_with_plan(hearth_server, 3)
    console = Console()
    fac = console.watch(new_context(**DESKTOP).new_page(), "facilitator")
    member = console.watch(new_context(**DESKTOP).new_page(), "member")
    open_room(member, MEMBER, meeting_id)
    open_room(fac, FACILITATOR, meeting_id)
    open_and_start(fac)
    admit(fac, MEMBER_NAME)

    # From the people list, with the keyboard.
    fac.get_by_role("button", name=f"Moderate {MEMBER_NAME}").press("Enter")
    fac.get_by_role("button", name=f"Reach out privately to {MEMBER_NAME}").press(
        "Enter"
    )
    box = fac.get_by_label(f"Message to {MEMBER_NAME}, privately")
    expect(box).to_be_focused()
    box.fill("Hi River, just checking in. How are you doing?")
    box.press("Enter")
    expect(box).to_have_value("")

    panel = member.get_by_role("region", name="A private check-in")
    expect(panel).to_contain_text(INVITE)
    expect(panel).to_contain_text("You can close it any time.")
    expect(panel).to_contain_text("Hi River, just checking in.")
    shots(member, "member sees a private check-in")
    reply = member.get_by_label("Your reply (only the facilitators see it)")
    reply.fill("Thank you, I'm okay. Just tired.")
    reply.press("Enter")
    thread = fac.get_by_role("region", name=f"Private thread with {MEMBER_NAME}")
    expect(thread).to_contain_text("Thank you, I'm okay. Just tired.")
    # Nothing of it in the group's conversation.
    for page in (fac, member):
        expect(page.locator("#chat-log")).not_to_contain_text("checking in")

    # The member steps away; the facilitator is told.
    member.get_by_role("button", name="Close this conversation").press("Enter")
    expect(panel).to_have_count(0)
    expect(thread).to_contain_text(f"{MEMBER_NAME} closed this thread.")
    shots(fac, "facilitator sees the thread closed")
    assert console.problems == []


def test_an_open_thread_has_no_serious_axe_violations(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
) -> None:
    """Both sides with a thread open and a line each way. Axe needs a
    context that bypasses the CSP (axe is injected, which a strict CSP would block)."""
    meeting_id = session_with_plan(hearth_server, 4)
    fac = new_context(bypass_csp=True, **DESKTOP).new_page()
    member = new_context(bypass_csp=True, **PHONE).new_page()
    open_room(member, MEMBER, meeting_id)
    open_room(fac, FACILITATOR, meeting_id)
    open_and_start(fac)
    admit(fac, MEMBER_NAME)
    fac.get_by_role("button", name=f"Moderate {MEMBER_NAME}").click()
    fac.get_by_role("button", name=f"Reach out privately to {MEMBER_NAME}").click()
    box = fac.get_by_label(f"Message to {MEMBER_NAME}, privately")
    box.fill("How are you doing?")
    fac.get_by_role("button", name="Send privately").click()
    reply = member.get_by_label("Your reply (only the facilitators see it)")
    expect(member.locator(".thread")).to_contain_text("How are you doing?")
    reply.fill("Okay, thanks.")
    # On a phone Enter starts a new line; Send sends.
    member.get_by_role("button", name="Send privately").click()
    expect(fac.locator(".thread")).to_contain_text("Okay, thanks.")
    assert blocking_violations(fac) == [], "facilitator with a thread open"
    assert blocking_violations(member) == [], "member with a thread open"
