"""Bad input over the socket: each frame earns a specific error, the socket
stays usable, nothing is stored and nothing reaches anyone else. Also the
chat rate limit, privileged fields and unexpected failures."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from facilitation.models import CheckIn, FacilitatorAlert, RoomEvent
from facilitation.services import control, messages
from tests.facilitation.conftest import events_of, seat, stored_events

pytestmark = pytest.mark.django_db(transaction=True)

SENTINEL = "zebra-lantern-7c1"


@database_sync_to_async
def stored() -> tuple[int, int, int]:
    return (
        RoomEvent.objects.count(),
        CheckIn.objects.count(),
        FacilitatorAlert.objects.count(),
    )


def bad_frames(meeting_id: int) -> list[tuple[str, Any, str]]:
    chat = {"type": "chat.send", "client_msg_id": "c1"}
    return [
        ("cut-off json", '{"type":"chat.send",', "invalid_json"),
        ("nesting bomb", "[" * 8000, "invalid_json"),
        (
            "huge number",
            '{"type":"resume","after_seq":' + "9" * 5000 + "}",
            "invalid_json",
        ),
        ("list", "[]", "bad_shape"),
        ("string", '"x"', "bad_shape"),
        ("number", "123", "bad_shape"),
        ("no type", "{}", "bad_shape"),
        ("unknown type", {"type": "send", "text": "hi"}, "unknown_type"),
        ("internal type", {"type": "member.leave", "user_id": 1}, "unknown_type"),
        ("missing text", chat, "missing_field"),
        ("text not a string", {**chat, "text": ["hi"]}, "bad_field"),
        (
            "bool for int",
            {"type": "checkin", "phase": "in", "score": True},
            "bad_field",
        ),
        (
            "other room",
            {**chat, "text": "hi", "session_id": meeting_id + 1},
            "wrong_room",
        ),
        ("over 8 KiB", {**chat, "text": "a" * 8300}, "too_long"),
        ("2001 characters", {**chat, "text": "a" * 2001}, "too_long"),
        ("NUL", {**chat, "text": "before\x00after"}, "bad_text"),
        ("lone surrogate", '{"type":"chat.send","text":"a\\ud800b"}', "bad_text"),
        ("blank", {**chat, "text": " \n\t "}, "empty"),
        (
            "bad word",
            {"type": "checkin", "phase": "in", "score": 3, "word": "\x00"},
            "bad_text",
        ),
    ]


async def test_each_bad_frame_gets_its_own_error_and_changes_nothing(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    before = await stored()
    for label, frame, code in bad_frames(meeting.pk):
        reply = await ann.error(frame)
        assert reply["code"] == code, label
        assert reply["detail"], label
        await ann.send({"type": "ping"})
        assert (await ann.recv())["type"] == "pong", label
    await ann.send_bytes(b'{"type":"join"}')
    assert (await ann.recv())["code"] == "binary_not_supported"
    assert await stored() == before
    assert await fac.nothing()


async def test_errors_echo_the_frame_type_and_client_message_id(
    sockets: Any, meeting: Any, facilitator: Any
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    reply = await fac.error(
        {"type": "chat.send", "text": "a" * 2001, "client_msg_id": "m-42"}
    )
    assert reply == {
        "type": "error",
        "code": "too_long",
        "detail": reply["detail"],
        "for": "chat.send",
        "client_msg_id": "m-42",
    }
    assert str(settings.HEARTH["CHAT_MAX_CHARS"]) in reply["detail"]


async def test_a_message_of_exactly_2000_characters_is_fine(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    ack = await ann.ok({"type": "chat.send", "text": "é" * 2000})
    event, _ = await fac.expect(lambda f: f.get("seq") == ack["seq"])
    assert event["data"]["text"] == "é" * 2000


async def test_chat_text_is_normalised(
    sockets: Any, meeting: Any, facilitator: Any
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    await fac.ok({"type": "chat.send", "text": "  cafe\u0301 \x07ok\n  "})
    [(_, _, data)] = [e for e in await stored_events(meeting) if e[1] == "chat.message"]
    assert data["text"] == "café ok"


async def test_privileged_fields_in_a_frame_are_ignored(
    sockets: Any, meeting: Any, facilitator: Any, member: Any
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    last = (await stored_events(meeting))[-1][0]
    ack = await ann.ok(
        {
            "type": "chat.send",
            "text": "hello",
            "sender_id": facilitator.pk,
            "user_id": facilitator.pk,
            "role": "facilitator",
            "is_facilitator": True,
            "name": "Facilitator",
            "seq": 999,
            "created_at": "2001-01-01T00:00:00+00:00",
            "at": "2001-01-01T00:00:00+00:00",
        }
    )
    assert ack["seq"] == last + 1
    event, _ = await fac.expect(lambda f: f.get("seq") == ack["seq"])
    assert event["data"] == {
        "user_id": member.pk,
        "name": member.display_name,
        "role": "member",
        "text": "hello",
    }
    assert not event["at"].startswith("2001")
    row = await database_sync_to_async(RoomEvent.objects.get)(seq=ack["seq"])
    assert row.actor_id == member.pk


async def test_bursts_are_rate_limited_then_muted(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    frozen_ratelimit: list[float],
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    burst = settings.HEARTH["CHAT_BURST"]
    for n in range(burst):
        await ann.ok({"type": "chat.send", "text": f"message {n}"})
    before = await stored()
    await fac.drain()

    for breach in range(1, settings.HEARTH["FLOOD_BREACHES"] + 1):
        reply = await ann.error({"type": "chat.send", "text": "one more"})
        assert reply["code"] == "rate_limited", breach
        assert 1 <= reply["retry_after"] <= 11
    alert, _ = await fac.expect("alert")
    assert (alert["kind"], alert["user_id"]) == ("flood", member.pk)

    muted = await ann.error({"type": "chat.send", "text": "and another"})
    assert muted["code"] == "muted"
    assert muted["until"]
    frozen_ratelimit[0] += 60  # a new window: still muted
    assert (await ann.error({"type": "chat.send", "text": "now?"}))["code"] == "muted"
    assert (await stored())[0] == before[0]
    assert events_of(await fac.drain()) == []

    frozen_ratelimit[0] += settings.HEARTH["FLOOD_MUTE_SECONDS"]
    await ann.ok({"type": "chat.send", "text": "sorry, all good"})


async def test_the_limit_is_per_person_not_per_socket(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    frozen_ratelimit: list[float],
) -> None:
    _, [first] = await seat(sockets, meeting, facilitator, member)
    second = await sockets(member, meeting)
    await second.join()
    for n in range(settings.HEARTH["CHAT_BURST"]):
        await (first if n % 2 else second).ok({"type": "chat.send", "text": f"m{n}"})
    reply = await second.error({"type": "chat.send", "text": "over"})
    assert reply["code"] == "rate_limited"


async def test_the_per_minute_limit_holds_across_bursts(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    frozen_ratelimit: list[float],
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    frozen_ratelimit[0] = 60 * 20_000.0  # the start of a minute
    per_minute = settings.HEARTH["CHAT_RATE_PER_MINUTE"]
    sent = 0
    while sent < per_minute:
        for _ in range(min(settings.HEARTH["CHAT_BURST"], per_minute - sent)):
            await fac.ok({"type": "chat.send", "text": f"m{sent}"})
            sent += 1
        frozen_ratelimit[0] += 10
    assert frozen_ratelimit[0] < 60 * 20_001
    reply = await fac.error({"type": "chat.send", "text": "one too many"})
    assert reply["code"] == "rate_limited"
    assert reply["retry_after"] >= 1


async def test_reactions_have_their_own_limit(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    frozen_ratelimit: list[float],
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    for _ in range(10):
        await fac.ok({"type": "reaction", "emoji": "clap"})
    reply = await fac.error({"type": "reaction", "emoji": "clap"})
    assert reply["code"] == "rate_limited"
    await fac.ok({"type": "chat.send", "text": "chat still works"})


async def test_a_failure_gives_server_error_and_logs_no_text(
    sockets: Any,
    meeting: Any,
    facilitator: Any,
    member: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fac, [ann] = await seat(sockets, meeting, facilitator, member)
    caplog.set_level(logging.DEBUG)

    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(messages, "send_chat", broken)
    monkeypatch.setattr(control, "act", broken)
    before = await stored()
    reply = await ann.error(
        {"type": "chat.send", "text": f"my secret {SENTINEL}", "client_msg_id": "s1"}
    )
    assert (reply["code"], reply["for"], reply["client_msg_id"]) == (
        "server_error",
        "chat.send",
        "s1",
    )
    assert SENTINEL not in json.dumps(reply)
    reply = await fac.error({"type": "pin.set", "text": SENTINEL})
    assert reply["code"] == "server_error"

    await ann.send({"type": "ping"})
    assert (await ann.recv())["type"] == "pong"
    await ann.ok({"type": "reaction", "emoji": "heart"})  # still usable
    assert "room frame failed" in caplog.text
    assert "type=chat.send" in caplog.text
    assert SENTINEL not in caplog.text
    assert (await stored())[0] == before[0] + 1  # only the reaction
    assert await fac.catch_up(before[0] + 1)


async def test_nothing_is_logged_of_an_ordinary_chat_message(
    sockets: Any, meeting: Any, facilitator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    caplog.set_level(logging.DEBUG)
    await fac.ok({"type": "chat.send", "text": f"hello {SENTINEL}"})
    await fac.error({"type": "chat.send", "text": f"{SENTINEL}" * 300})
    assert "chat room=" in caplog.text
    assert SENTINEL not in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"chat.send","text":"hi","client_msg_id":"a\\ud800"}',
        '{"type":"chat.send","text":"hi","client_msg_id":"a\\u0000b"}',
        '{"type":"x\\udfff"}',
    ],
    ids=["surrogate-id", "nul-id", "surrogate-type"],
)
async def test_invalid_characters_outside_the_text_are_refused_cleanly(
    sockets: Any, meeting: Any, facilitator: Any, text: str
) -> None:
    fac, _ = await seat(sockets, meeting, facilitator)
    before = await stored()
    reply = await fac.error(text)  # recv() checks the frame is valid UTF-8
    assert reply["code"] in ("bad_field", "bad_text", "unknown_type")
    assert await stored() == before
    await fac.send({"type": "ping"})
    assert (await fac.recv())["type"] == "pong"
