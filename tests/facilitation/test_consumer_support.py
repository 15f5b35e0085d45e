"""Asking for help in the room (docs/safety.md, "Asking for help"): the
gentle check-in reaches the sender alone and raises nothing until they ask;
"I'd like support" and "I'm not safe right now" bring the crisis card in the
same round trip and tell the facilitators privately."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core import mail
from django.test import Client
from django.urls import reverse

from groups.models import Membership
from safety.models import SafetyAlert
from safety.screening import Result
from safety.services import assess

from .conftest import seat

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _resources(transactional_db: None) -> None:
    from safety.seed import load_care_resources

    load_care_resources()


@database_sync_to_async
def alerts() -> list[tuple[str, list[str], int]]:
    return list(
        SafetyAlert.objects.order_by("pk").values_list("tier", "reasons", "count")
    )


async def test_an_unsure_message_offers_only_the_sender_a_check_in(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    member2: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The screener does not set `uncertain` yet: stand in for it.
    monkeypatch.setattr(
        assess, "screen", lambda text: Result("none", (), uncertain=True)
    )
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    ack = await ann.ok(
        {"type": "chat.send", "text": "a long week", "client_msg_id": "u1"}
    )
    assert ack["status"] == "delivered" and ack["seq"]
    offer = await ann.recv()
    assert offer == {"type": "gentle_checkin"}  # right after the ack
    for tab in (fac, ben):
        event, before = await tab.expect(lambda f: f.get("seq") == ack["seq"])
        assert event["data"]["text"] == "a long week"
        assert not [f for f in before if f["type"] == "gentle_checkin"]
    for tab in (fac, ben, ann):
        got = await tab.drain()
        assert not [f for f in got if f["type"] in ("gentle_checkin", "safety_alert")]
    assert await alerts() == []

    # "I'd like support": the card in the same round trip, then the alert.
    await ann.ok({"type": "support.request", "client_msg_id": "s1"})
    card = await ann.recv()
    assert card["type"] == "crisis_card" and card["card"]["resources"]
    assert "told, privately" in card["card"]["notice"]
    alert, _ = await fac.expect("safety_alert")
    assert (alert["tier"], alert["reasons"], alert["user_id"]) == (
        "concern",
        ["member.asked_support"],
        member.pk,
    )
    assert "a long week" not in str(alert)
    assert not [f for f in await ben.drain() if f["type"] != "event"]
    assert await alerts() == [("concern", ["member.asked_support"], 1)]


async def test_support_requests_are_rate_limited_but_the_card_still_comes(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    frozen_ratelimit: list[float],
) -> None:
    _, [ann] = await seat(sockets, meeting, facilitator, member)
    for n in range(5):
        await ann.ok({"type": "support.request", "client_msg_id": f"s{n}"})
        assert (await ann.recv())["type"] == "crisis_card"
    # Three pass the limiter (one alert, bumped twice); two give the card only.
    assert await alerts() == [("concern", ["member.asked_support"], 3)]


async def test_not_safe_in_the_room_is_urgent_and_limited(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    member2: Any,
    settings: Any,
) -> None:
    settings.HEARTH_NOT_SAFE_ALERTS = 3
    fac, [ann, ben] = await seat(sockets, meeting, facilitator, member, member2)
    for n in range(4):
        await ann.ok({"type": "support.not_safe", "client_msg_id": f"n{n}"})
        card = await ann.recv()
        assert card["type"] == "crisis_card", card
        assert card["card"]["tier"] == "imminent" and card["card"]["resources"]
    assert "already know" in card["card"]["notice"]
    seen = []
    while len(seen) < 4:
        frame, _ = await fac.expect("safety_alert")
        seen.append((frame["tier"], frame["reasons"], frame["count"]))
    assert seen[0] == ("imminent", ["member.not_safe"], 1)
    assert seen[-1][2] == 2  # the fourth tap bumped the third alert
    assert [a[2] for a in await alerts()] == [1, 1, 2]
    assert not [f for f in await ben.drain() if f["type"] != "event"]
    assert mail.outbox == []  # a facilitator is connected


async def test_not_safe_with_no_facilitator_connected_is_emailed(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    """M-10: the room is not even open; the member is not admitted."""
    ann = await sockets(member, meeting)
    snapshot = await ann.join()
    assert not snapshot["admitted"]
    await ann.ok({"type": "support.not_safe"})
    assert (await ann.recv())["type"] == "crisis_card"
    assert [m for m in mail.outbox if facilitator.email in m.to]
    assert await alerts() == [("imminent", ["member.not_safe"], 1)]


async def test_asking_needs_standing_in_the_group(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    _, [ann] = await seat(sockets, meeting, facilitator, member)
    await database_sync_to_async(
        Membership.objects.filter(user=member, group=meeting.group).delete
    )()
    await ann.send({"type": "support.request"})
    assert await ann.closed() == 4403
    assert await alerts() == []


def test_the_room_has_a_keyboard_ready_not_safe_button(
    meeting: Any, member: Any
) -> None:
    client = Client()
    client.force_login(member)
    page = client.get(reverse("facilitation:room", args=[meeting.pk])).content.decode()
    form = page.split('id="not-safe-form"', 1)[1].split("</form>", 1)[0]
    # A native button: focusable, Enter and Space work, its text is its name.
    assert '<button type="submit" id="not-safe-btn"' in form
    assert ">I'm not safe right now</button>" in form
    assert f'name="meeting" value="{meeting.pk}"' in form
    assert "csrfmiddlewaretoken" in form
    assert 'aria-describedby="not-safe-help"' in form
    assert 'id="gentle-checkin"' in page and ">I'd like support</button>" in page
