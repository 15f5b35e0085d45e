"""M-10 and M-11 on a real server: uvicorn, a real WebSocket client, the
Celery broker down and a mail relay that accepts connections and never
answers. The member's ack and crisis card come back in the same round
trip; the alert email is tried afterwards, from a thread, and recorded as
failed with the alert kept for the retry sweep.

Runs in the integration pass (DATABASE_URL=postgres://…, REDIS_URL=redis://…).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from facilitation.models import RoomConnection
from safety.models import AlertDelivery, SafetyAlert
from tests.blackhole import BlackHole
from tests.facilitation.conftest import login_session
from tests.facilitation.test_two_processes import (
    database_url,
    free_port,
    start_uvicorn,
    wait_for_port,
)
from tests.facilitation.wsclient import Peer

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]

IMMINENT = "I have the pills and I'm doing it tonight"
SMTP_TIMEOUT = 10  # the server's own (config/settings.py, MAILERS)


@pytest.fixture
def relay() -> Iterator[BlackHole]:
    hole = BlackHole()
    yield hole
    hole.close()


@pytest.fixture
def server(django_db_setup: None, relay: BlackHole, tmp_path: Path) -> Iterator[int]:
    assert connection.settings_dict["NAME"].startswith("test_")
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        # No broker: publishing the email task fails, a thread sends instead.
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "EMAIL_URL": f"smtp://127.0.0.1:{relay.port}",
        "HEARTH_SAFETY_CONTACTS": "",
        "HEARTH_PRESENCE_GRACE_SECONDS": "0",
        "DEBUG": "true",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        "HEARTH_VAR_DIR": str(tmp_path / "var"),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    with (tmp_path / "server.log").open("wb") as out:
        proc = start_uvicorn(port, env, out)
        try:
            wait_for_port(port, proc, time.monotonic() + 60)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
async def peer(server: int) -> AsyncIterator[Any]:
    from websockets.asyncio.client import connect

    opened: list[Peer] = []

    async def open_peer(user: Any, meeting: Any) -> Peer:
        key = await database_sync_to_async(login_session)(user)
        ws = await connect(
            f"ws://127.0.0.1:{server}/ws/sessions/{meeting.pk}/",
            origin=f"http://127.0.0.1:{server}",
            additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={key}"},
            open_timeout=5,
        )
        opened.append(Peer(user.display_name, ws))
        return opened[-1]

    yield open_peer
    for tab in opened:
        await tab.close()


async def until(check: Any, timeout: float) -> Any:
    """Ask the database until `check` holds (the server works in its own
    process; there is no event to wait on here)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await database_sync_to_async(check)()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_m10_m11_the_card_comes_at_once_and_the_email_is_tried_afterwards(
    peer: Any, relay: BlackHole, meeting: Any, facilitator: Any, member: Any
) -> None:
    # The facilitator opens the room, lets people in, then closes the tab.
    fac = await peer(facilitator, meeting)
    await fac.join()
    await fac.ok({"type": "room.auto_admit", "on": True})
    await fac.ok({"type": "room.start"})
    await fac.close()
    gone = await until(
        lambda: not RoomConnection.objects.filter(user=facilitator).exists(), 10
    )
    assert gone, "the facilitator's socket is still registered"

    tab = await peer(member, meeting)
    assert (await tab.join())["admitted"]
    mark = len(tab.frames)
    started = time.monotonic()
    ack = await tab.request({"type": "chat.send", "text": IMMINENT})
    card = await tab.wait(lambda f: f["type"] == "crisis_card", mark)
    took = time.monotonic() - started
    assert (ack["type"], ack["status"]) == ("ack", "held")
    assert card["card"]
    # The same round trip: nothing came between the ack and the card.
    types = [f["type"] for f in tab.frames[mark:]]
    assert types[types.index("ack") + 1] == "crisis_card"
    assert took < 2, f"the reply took {took:.1f} s"

    # Then the email: the relay is reached (after the reply), times out, and
    # the failure is recorded with the alert still open.
    assert await asyncio.to_thread(relay.accepted.wait, SMTP_TIMEOUT)
    failed = await until(
        lambda: (
            AlertDelivery.objects.filter(attempts=1)
            .exclude(last_error="")
            .filter(sent_at__isnull=True, claimed_at__isnull=True)
            .exists()
        ),
        SMTP_TIMEOUT + 10,
    )
    assert failed, list(AlertDelivery.objects.values())
    alert = await database_sync_to_async(SafetyAlert.objects.get)()
    assert alert.tier == "imminent" and alert.acknowledged_at is None
