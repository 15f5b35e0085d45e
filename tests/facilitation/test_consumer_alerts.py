"""Alerts that reach a person (docs/safety.md): the sender's card never
waits for email, emails leave after the reply (Celery, or a thread when the
broker is down) and survive a hung relay; open alerts come back on every
connect until acknowledged; a hidden tab stops counting after a minute."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import pytest
import time_machine
from channels.db import database_sync_to_async
from django.utils import timezone

from config.celery import app as celery_app
from facilitation import consumers
from safety import services
from safety.models import AlertDelivery, SafetyAlert

from .conftest import seat

pytestmark = pytest.mark.django_db(transaction=True)

IMMINENT = "I have the pills and I'm doing it tonight"
LOCMEM = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
# Long enough that a reply waiting on even one SMTP timeout would show.
HUNG_RELAY_TIMEOUT = 1.5


async def dispatched() -> None:
    """Wait for every alert email handed off after a reply, and the threads
    it fell back to."""
    await asyncio.gather(*list(consumers._dispatching))
    for thread in threading.enumerate():
        if thread.name.startswith("alert-email-"):
            await asyncio.to_thread(thread.join, 10)


@pytest.fixture(autouse=True)
async def _no_email_left_running() -> Any:
    yield
    await dispatched()


@database_sync_to_async
def deliveries() -> list[tuple[str, int, str, bool]]:
    return [
        (d.address, d.attempts, d.last_error, d.sent_at is not None)
        for d in AlertDelivery.objects.order_by("address")
    ]


@database_sync_to_async
def the_alert() -> SafetyAlert:
    return SafetyAlert.objects.get()


async def alone_in_the_room(sockets: Any, meeting: Any, facilitator: Any, member: Any):  # type: ignore[no-untyped-def]
    """A member in a live room whose facilitator has closed the tab."""
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    await fac.disconnect()
    return ann


async def card_round_trip(tab: Any) -> float:
    loop = asyncio.get_running_loop()
    started = loop.time()
    await tab.send({"type": "chat.send", "text": IMMINENT, "client_msg_id": "i-1"})
    ack, _ = await tab.expect("ack")
    card = await tab.recv()
    took = loop.time() - started
    assert (ack["status"], card["type"]) == ("held", "crisis_card")
    assert card["card"]["resources"] or card["card"]
    return took


async def test_m10_the_card_does_not_wait_for_a_hung_mail_relay(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    settings: Any,
    smtp_blackhole: Any,
) -> None:
    """M-10: nobody in the room, the relay accepts and never answers: the
    sender's ack and card come back at once; the email is tried after the
    reply (through the Celery task), fails at the relay's timeout, and is
    recorded for a retry with the alert still open."""
    settings.HEARTH_SAFETY_CONTACTS = []
    settings.MAILERS["default"]["OPTIONS"]["timeout"] = HUNG_RELAY_TIMEOUT
    ann = await alone_in_the_room(sockets, meeting, facilitator, member)
    took = await card_round_trip(ann)
    assert took < HUNG_RELAY_TIMEOUT
    await dispatched()
    assert smtp_blackhole.accepted.is_set()
    [(address, attempts, error, sent)] = await deliveries()
    assert (address, attempts, sent) == (facilitator.email, 1, False)
    assert error
    assert (await the_alert()).acknowledged_at is None


async def test_m11_without_a_broker_the_email_goes_from_a_thread_and_is_retried(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    settings: Any,
    smtp_blackhole: Any,
    monkeypatch: pytest.MonkeyPatch,
    mailoutbox: list[Any],
) -> None:
    """M-11: Celery's broker is down and the relay hangs. The card still
    comes at once; publishing fails fast and a thread tries the email; the
    failure is recorded; once mail works, the sweep sends it, once."""
    settings.HEARTH_SAFETY_CONTACTS = ["oncall@example.org"]
    ann = await alone_in_the_room(sockets, meeting, facilitator, member)
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    # Forget any connection pool made for an earlier broker URL.
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    assert await card_round_trip(ann) < 1
    await dispatched()
    assert smtp_blackhole.accepted.is_set()
    got = await deliveries()
    assert [(a, n, s) for a, n, _, s in got] == [
        ("oncall@example.org", 1, False),
        (facilitator.email, 1, False),
    ]
    settings.MAILERS = LOCMEM
    later = timezone.now() + dt.timedelta(minutes=2)
    await database_sync_to_async(services.retry_alert_emails)(now=later)
    await database_sync_to_async(services.retry_alert_emails)(now=later)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        ["oncall@example.org", facilitator.email]
    )


async def test_open_alerts_come_back_on_every_connect_until_one_acknowledges(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    cofacilitator: Any,
    member: Any,
) -> None:
    ann = await alone_in_the_room(sockets, meeting, facilitator, member)
    await card_round_trip(ann)
    alert = await the_alert()
    # Offline when it was raised: the first connect has it.
    fac = await sockets(facilitator, meeting, name="fac-again")
    snapshot = await fac.join()
    assert [a["id"] for a in snapshot["safety_alerts"]] == [alert.pk]
    await fac.disconnect()
    # Back again, resuming where it left off: it comes again.
    fac = await sockets(facilitator, meeting, name="fac-resumed")
    await fac.send({"type": "resume", "after_seq": snapshot["seq"]})
    frame, _ = await fac.expect("safety_alerts")
    assert [a["id"] for a in frame["alerts"]] == [alert.pk]
    assert "text" not in frame["alerts"][0]
    # One facilitator acknowledges from the live panel: cleared for all.
    co = await sockets(cofacilitator, meeting, name="cofacilitator")
    assert [a["id"] for a in (await co.join())["safety_alerts"]] == [alert.pk]
    await fac.ok({"type": "safety.ack", "alert_id": alert.pk})
    cleared, _ = await co.expect("safety_alert_cleared")
    assert cleared == {
        "type": "safety_alert_cleared",
        "id": alert.pk,
        "by": facilitator.pk,
    }
    assert (await the_alert()).acknowledged_by_id == facilitator.pk
    await fac.disconnect()
    fac = await sockets(facilitator, meeting, name="fac-after")
    await fac.send({"type": "resume", "after_seq": snapshot["seq"]})
    frame, _ = await fac.expect("safety_alerts")
    assert frame["alerts"] == []
    assert (await fac.join())["safety_alerts"] == []


async def test_members_get_no_open_alerts_on_resume(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    _, [ann] = await seat(sockets, meeting, facilitator, member)
    await ann.send({"type": "resume", "after_seq": ann.last_seq})
    frames = await ann.drain(quiet=0.3)
    assert "resumed" in [f["type"] for f in frames]
    assert "safety_alerts" not in [f["type"] for f in frames]


async def test_a_facilitator_tab_hidden_for_over_a_minute_does_not_count(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    settings: Any,
    mailoutbox: list[Any],
) -> None:
    """The hidden-tab rule: the facilitator is connected but their room tab
    has been in the background for 61 s, so an imminent alert is emailed at
    once (and still shown in their panel)."""
    settings.HEARTH_SAFETY_CONTACTS = []
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    await fac.ok({"type": "visibility", "visible": False})
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61)):
        await card_round_trip(ann)
    await fac.expect("safety_alert")
    await dispatched()
    assert [m.to for m in mailoutbox] == [[facilitator.email]]


async def test_a_tab_hidden_less_than_a_minute_or_shown_again_still_counts(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    mailoutbox: list[Any],
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    await fac.ok({"type": "visibility", "visible": False})
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=59)):
        await card_round_trip(ann)
        await fac.ok({"type": "visibility", "visible": True})
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=10)):
        await fac.send({"type": "ping"})  # the tab's heartbeat, as every 25 s
        await fac.expect("pong")
        await ann.send({"type": "chat.send", "text": IMMINENT, "client_msg_id": "i-2"})
        await ann.expect("ack")
    await dispatched()
    assert await deliveries() == []
    assert mailoutbox == []


async def test_visibility_needs_a_true_or_false(
    sockets: Any, meeting: Any, facilitator: Any
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    reply = await fac.error({"type": "visibility", "visible": "yes"})
    assert (reply["code"], reply["for"]) == ("bad_field", "visibility")
    reply = await fac.error({"type": "visibility"})
    assert reply["code"] == "missing_field"
