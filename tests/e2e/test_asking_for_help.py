""" "I'm not safe right now" in real browsers: from the keyboard in the room
(the card in the same round trip, an urgent alert in plain words for the
facilitator) and from the footer of an ordinary page (docs/safety.md,
"Asking for help")."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, expect

from .conftest import HearthServer, ServerErrors, log_in
from .test_room import DESKTOP, FACILITATOR, PASSWORD, Console, open_room
from .test_safety import RIVER, Frames, enter, one_off_session, start_room

pytestmark = pytest.mark.e2e
IMMINENT_TITLE = "Please reach out now: you deserve support"


def test_not_safe_from_the_keyboard_in_the_room(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    server_errors: ServerErrors,
) -> None:
    meeting_id = one_off_session(hearth_server, "Safety check: not safe")
    console = Console()
    fac = console.watch(new_context(**DESKTOP).new_page(), "facilitator")
    open_room(fac, FACILITATOR, meeting_id)
    start_room(fac)
    member = console.watch(new_context(**DESKTOP).new_page(), "member")
    frames = Frames(member)
    enter(member, RIVER[0], meeting_id)

    button = member.locator("#not-safe-btn")
    expect(button).to_have_accessible_name("I'm not safe right now")
    button.focus()
    member.keyboard.press("Enter")

    card = member.get_by_role("dialog", name=IMMINENT_TITLE)
    expect(card).to_be_visible()
    expect(member.locator("#crisis-title")).to_be_focused()
    expect(card).to_contain_text("have been told, privately")
    expect(card.get_by_role("link", name="Call 988")).to_have_attribute(
        "href", "tel:988"
    )
    kinds = [str(f.get("type")) for f in frames.received]
    at = kinds.index("crisis_card")
    assert frames.received[at - 1].get("for") == "support.not_safe"
    assert member.url.endswith(f"/sessions/{meeting_id}/room/")  # no page load

    safety = fac.locator("#fac-safety")
    expect(safety).to_contain_text(f"{RIVER[1]} said they're not safe right now.")
    expect(safety.locator(".badge").first).to_have_text("Urgent")
    assert console.problems == []


def test_not_safe_from_the_footer_shows_the_card_at_once(
    new_context: Callable[..., BrowserContext],
) -> None:
    visitor = new_context(**DESKTOP).new_page()
    visitor.goto("/support/")
    visitor.locator("#footer-not-safe").click()
    expect(visitor.get_by_role("heading", name="Help right now")).to_be_visible()
    expect(visitor.locator(".crisis-card")).to_contain_text("No one has been told")

    member = new_context(**DESKTOP).new_page()
    log_in(member, RIVER[0], PASSWORD)
    member.goto("/support/")
    member.locator("#footer-not-safe").focus()
    member.keyboard.press("Enter")
    expect(member.get_by_role("heading", name="Help right now")).to_be_visible()
    expect(member.locator(".crisis-card")).to_contain_text("The facilitators of")
