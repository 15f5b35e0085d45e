"""axe-core on the pages of the journey: no serious or critical violations.

The pages send a strict CSP, so axe is injected into a context that bypasses
it. Each page is checked as a visitor and as a member, whose view
has the RSVP and membership controls.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page

from .conftest import Shots, log_in

pytestmark = pytest.mark.e2e

MEMBER = ("river@hearth.example", "hearth-demo-2026")
GROUP_PATH = "/groups/carrying-it-all-alone/"
BLOCKING = ("serious", "critical")


def open_page(page: Page, which: str) -> None:
    if which == "directory":
        page.goto("/groups/?q=alone")
        return
    page.goto(GROUP_PATH)
    if which == "session":
        page.get_by_role("heading", name="Upcoming sessions").wait_for()
        page.locator("a[href^='/sessions/']").first.click()
        page.locator("time#when").wait_for()


def blocking_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in BLOCKING:
            continue
        for node in violation["nodes"]:
            found.append(
                f"{violation['impact']} {violation['id']}: {node['target']} "
                f"{node['html'][:120]}"
            )
    return found


@pytest.mark.parametrize("viewer", ["visitor", "member"])
@pytest.mark.parametrize("which", ["directory", "group", "session"])
def test_pages_have_no_serious_axe_violations(
    new_context: Callable[..., BrowserContext],
    shots: Shots,
    which: str,
    viewer: str,
) -> None:
    page = new_context(bypass_csp=True).new_page()
    if viewer == "member":
        log_in(page, *MEMBER)
    open_page(page, which)
    shots(page, f"{which} as {viewer}")
    assert blocking_violations(page) == []


def test_the_axe_check_catches_a_violation(
    new_context: Callable[..., BrowserContext],
) -> None:
    """The check above can fail: a nameless button is a critical violation."""
    page = new_context(bypass_csp=True).new_page()
    open_page(page, "directory")
    page.evaluate(
        "document.querySelector('main').insertAdjacentHTML("
        "'beforeend', '<button id=\"nameless\"></button>')"
    )
    found = blocking_violations(page)
    assert any("button-name" in line and "#nameless" in line for line in found), found
