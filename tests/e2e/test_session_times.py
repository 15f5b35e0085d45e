"""A session page names the time in the viewer's zone and in the group's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, expect

from .conftest import Shots, log_in

pytestmark = pytest.mark.e2e

# A demo member in America/New_York, in a group that meets in Europe/Berlin.
MEMBER = ("river@hearth.example", "hearth-demo-2026")
GROUP_ZONE = "Europe/Berlin"


def test_session_page_gives_the_groups_own_local_time(
    new_context: Callable[..., BrowserContext], shots: Shots
) -> None:
    page = new_context().new_page()
    log_in(page, *MEMBER)
    page.goto("/groups/carrying-it-all-alone/")
    page.locator("a[href^='/sessions/']").first.click()
    when = page.locator("time#when")
    instant = dt.datetime.fromisoformat(when.get_attribute("datetime") or "")
    local = instant.astimezone(ZoneInfo(GROUP_ZONE))
    expected = f"{local:%A} {local:%H:%M} {local.tzname()}"
    shots(page, "session times")
    expect(page.locator("main")).to_contain_text(
        f"For the group that is {expected} ({GROUP_ZONE}).", timeout=2_000
    )
