"""A newcomer's first journey through Hearth, in a real browser.

Sign up with a pseudonym and a time zone, confirm the email by code, find a
group, ask to join, get approved by the facilitator (in another browser),
then see the next session in one's own zone, RSVP and take the .ics home.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from zoneinfo import ZoneInfo

import icalendar
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from .conftest import (
    ARTIFACTS,
    HearthServer,
    ServerErrors,
    Shots,
    body_text,
    log_in,
)

pytestmark = pytest.mark.e2e

GROUP = "Carrying it all alone"
OTHER_PUBLIC_GROUP = "Rest is not a reward"
FACILITATOR = ("ada@hearth.example", "hearth-demo-2026")
NEWCOMER_ZONE = "America/New_York"
NEWCOMER_NAME = "Steady Heron"
PASSWORD = "a-long-test-password-4711"


def expected_local_text(instant: dt.datetime, zone: str) -> str:
    """Django's "l j F Y, H:i T", computed independently of Django."""
    local = instant.astimezone(ZoneInfo(zone))
    return (
        f"{local:%A} {local.day} {local:%B} {local.year}, "
        f"{local:%H:%M} {local.tzname()}"
    )


def sign_up(page: Page, shots: Shots, errors: ServerErrors, *, address: str) -> None:
    page.goto("/accounts/signup/")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Display name").fill(NEWCOMER_NAME)
    page.get_by_label("Time zone").select_option(NEWCOMER_ZONE)
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    shots(page, "sign up form")
    with page.expect_navigation():
        page.get_by_role("button", name=re.compile("sign up", re.IGNORECASE)).click()
    errors.check()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    shots(page, "enter the code")


def confirm_by_code(
    page: Page, shots: Shots, hearth: HearthServer, address: str
) -> None:
    message = hearth.outbox.wait_for(to=address, timeout=10)
    text = body_text(message)
    # allauth's code stands on a line of its own, e.g. "XTBR-PDQS".
    found = re.search(r"^\s*([A-Z0-9]{4,}(?:-[A-Z0-9]{4,})*)\s*$", text, re.MULTILINE)
    assert found, f"no verification code in the email:\n{text}"
    page.get_by_label("Code").fill(found.group(1))
    page.get_by_role("button", name=re.compile("confirm", re.IGNORECASE)).click()
    # Confirming logs the newcomer in (ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION).
    page.wait_for_url(lambda url: "/accounts/" not in url)
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    shots(page, "confirmed and logged in")


def find_group(page: Page, shots: Shots) -> None:
    page.goto("/groups/")
    page.get_by_role("searchbox", name="Search").fill("all alone")
    page.get_by_role("button", name="Search").click()
    results = page.locator("#results")
    expect(results.get_by_role("link", name=GROUP)).to_be_visible()
    expect(results.get_by_role("link", name=OTHER_PUBLIC_GROUP)).to_have_count(0)
    shots(page, "directory search")
    results.get_by_role("link", name=GROUP).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(GROUP)


def ask_to_join(page: Page, shots: Shots, note: str) -> None:
    page.get_by_role("link", name="Ask to join").click()
    page.get_by_label("A note for the facilitators").fill(note)
    shots(page, "ask to join")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_text("Your request is sent")).to_be_visible()
    expect(page.get_by_role("button", name="Withdraw my request")).to_be_visible()
    shots(page, "request sent")


def approve_as_facilitator(
    context: BrowserContext, shots: Shots, hearth: HearthServer, note: str
) -> None:
    page = context.new_page()
    log_in(page, *FACILITATOR)
    # The facilitators heard about the request from the worker.
    hearth.outbox.wait_for(to=FACILITATOR[0], subject=f"A request to join {GROUP}")
    page.goto("/groups/carrying-it-all-alone/")
    page.get_by_role("link", name="Members and requests").click()
    request_card = page.locator("li.card", has_text=NEWCOMER_NAME)
    expect(request_card).to_contain_text(note)
    shots(page, "facilitator sees the request")
    request_card.get_by_role("button", name=f"Approve {NEWCOMER_NAME}").click()
    expect(page.get_by_text(f"{NEWCOMER_NAME} is now a member.")).to_be_visible()
    members = page.get_by_role("table")
    expect(members.get_by_role("cell", name=NEWCOMER_NAME, exact=True)).to_be_visible()
    shots(page, "request approved")


def test_newcomer_signs_up_joins_a_group_and_takes_a_session_home(
    hearth_server: HearthServer,
    new_context: Callable[..., BrowserContext],
    shots: Shots,
    server_errors: ServerErrors,
) -> None:
    address = f"newcomer-{uuid.uuid4().hex[:8]}@example.org"
    note = "I always say I'm fine. I'd like to practise asking."
    # The browser's own zone differs from the account's: times must come
    # from the profile, rendered by the server.
    newcomer = new_context(timezone_id="Asia/Tokyo").new_page()

    sign_up(newcomer, shots, server_errors, address=address)
    confirm_by_code(newcomer, shots, hearth_server, address)
    find_group(newcomer, shots)
    ask_to_join(newcomer, shots, note)

    approve_as_facilitator(new_context(), shots, hearth_server, note)

    welcome = hearth_server.outbox.wait_for(
        to=address, subject=f"Welcome to {GROUP}", timeout=20
    )
    assert "/groups/carrying-it-all-alone/" in body_text(welcome)

    # Back as the new member: the group page now shows membership.
    newcomer.goto("/groups/carrying-it-all-alone/")
    expect(newcomer.get_by_text("You're a member here")).to_be_visible()
    upcoming = newcomer.locator("section").filter(
        has=newcomer.get_by_role("heading", name="Upcoming sessions")
    )
    first = upcoming.locator("li").first
    listed_at = dt.datetime.fromisoformat(
        first.locator("time").get_attribute("datetime") or ""
    )
    shots(newcomer, "member sees the next session")
    first.get_by_role("link").click()

    when = newcomer.locator("time#when")
    instant = dt.datetime.fromisoformat(when.get_attribute("datetime") or "")
    assert instant == listed_at, "the session page is not the next session"
    assert instant > dt.datetime.now(dt.UTC)
    expect(when).to_have_text(expected_local_text(instant, NEWCOMER_ZONE))
    assert when.inner_text().rsplit(" ", 1)[-1] in ("EST", "EDT")
    expect(
        newcomer.get_by_text(f"Shown in your time zone, {NEWCOMER_ZONE}")
    ).to_be_visible()
    shots(newcomer, "session in my time zone")

    newcomer.get_by_role("button", name="I'm going").click()
    expect(newcomer.get_by_text("You're going. See you there.")).to_be_visible()
    expect(newcomer.get_by_role("button", name="I'm going")).to_have_count(0)
    shots(newcomer, "rsvp going")

    with newcomer.expect_download() as download_info:
        newcomer.get_by_role("link", name="Add to calendar (.ics)").click()
    download = download_info.value
    saved = ARTIFACTS / download.suggested_filename
    download.save_as(saved)
    calendar = icalendar.Calendar.from_ical(saved.read_bytes())
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    start = events[0]["DTSTART"]
    assert start.dt == instant, (start.dt, instant)
    zones = [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")]
    assert zones, "the .ics carries no VTIMEZONE"
    assert str(start.params["TZID"]) in zones

    server_errors.check()
