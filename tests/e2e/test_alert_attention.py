"""A facilitator's room tab in the background, in a real browser on the real
platform: it tells the server it is hidden, and a new safety alert puts a
count in its title until the tab is shown again (docs/safety.md)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .conftest import HearthServer, ServerErrors
from .test_room import DESKTOP, FACILITATOR, PHONE, Console, open_room, send_chat
from .test_safety import CONCERN, RIVER, enter, one_off_session, start_room

pytestmark = pytest.mark.e2e

# How a browser reports a tab going to the background (or coming back).
SET_VISIBILITY = """(hidden) => {
  for (const [name, value] of [["visibilityState", hidden ? "hidden" : "visible"], ["hidden", hidden]]) {
    Object.defineProperty(document, name, { configurable: true, get: () => value });
  }
  document.dispatchEvent(new Event("visibilitychange"));
}"""


class SentFrames:
    """Every frame a page's room socket sent, in order."""

    def __init__(self, page: Page) -> None:
        self.sent: list[dict[str, Any]] = []
        page.on("websocket", lambda ws: ws.on("framesent", self._record))

    def _record(self, payload: str | bytes) -> None:
        with contextlib.suppress(ValueError):
            self.sent.append(json.loads(payload))

    def visibility(self) -> list[bool]:
        return [f["visible"] for f in self.sent if f.get("type") == "visibility"]


def test_a_hidden_facilitator_tab_gets_a_count_in_its_title_on_a_new_alert(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    server_errors: ServerErrors,
) -> None:
    meeting_id = one_off_session(hearth_server, "Safety check: background tab")
    console = Console()
    fac = console.watch(new_context(**DESKTOP).new_page(), "facilitator")
    frames = SentFrames(fac)
    open_room(fac, FACILITATOR, meeting_id)
    start_room(fac)
    title = fac.title()
    assert not title.startswith("(")
    # The panel offers the sound (on by default) and asks nothing on load.
    expect(fac.get_by_label(re.compile("Play a short sound"))).to_be_checked()
    assert frames.visibility()[:1] == [True]  # reported after joining

    fac.evaluate(SET_VISIBILITY, True)
    member = console.watch(new_context(**PHONE).new_page(), "member")
    enter(member, RIVER[0], meeting_id)
    send_chat(member, CONCERN)

    expect(fac.locator("#fac-safety")).to_contain_text(f"{RIVER[1]} may be struggling.")
    expect(fac).to_have_title(f"(1) {title}")
    assert frames.visibility()[-1] is False

    fac.evaluate(SET_VISIBILITY, False)
    expect(fac).to_have_title(title)
    assert frames.visibility()[-1] is True

    server_errors.check()
    assert console.problems == []
