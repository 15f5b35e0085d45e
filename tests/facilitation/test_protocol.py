"""Frame checks (`facilitation.protocol.parse`) against docs/protocol.md:
every client type, its fields, and every error code a frame can earn."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from facilitation.protocol import Frame, FrameError, parse

ROOM = 7

# The client types of docs/protocol.md: field -> (kind, required).
DOCUMENTED: dict[str, dict[str, tuple[str, bool]]] = {
    "join": {},
    "resume": {"after_seq": ("int", True)},
    "ping": {},
    "chat.send": {"text": ("str", True)},
    "reaction": {"emoji": ("str", True)},
    "checkin": {"phase": ("str", True), "score": ("int", True), "word": ("str", False)},
    "moment": {},
    "hand.raise": {},
    "hand.lower": {},
    "pass": {},
    "room.open": {},
    "room.start": {},
    "room.pause": {},
    "room.resume": {},
    "room.end": {},
    "room.lock": {"on": ("bool", True)},
    "room.auto_admit": {"on": ("bool", True)},
    "lobby.admit": {"user_id": ("int", True)},
    "queue.next": {},
    "queue.skip": {"user_id": ("int", True)},
    "queue.reorder": {"order": ("list", True)},
    "queue.clear": {},
    "prompt.show": {"index": ("int", True), "seconds": ("int", False)},
    "timer.set": {"seconds": ("int", True)},
    "pin.set": {"text": ("str", True)},
    "alert.ack": {"alert_id": ("int", True)},
    "support.request": {},
    "support.not_safe": {},
}
GOOD = {"int": 3, "str": "in", "bool": True, "list": [4, 5]}
WRONG: dict[str, list[Any]] = {
    "int": ["3", 3.0, True, False, None, [3], {"n": 3}],
    "str": [3, True, None, ["in"], {"t": "in"}],
    "bool": [1, 0, "true", None, [True]],
    "list": ["4,5", {"0": 4}, None, 4, True],
}


def frame(kind: str, *, optional: bool = False, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": kind}
    for name, (field_kind, required) in DOCUMENTED[kind].items():
        if required or optional:
            body[name] = GOOD[field_kind]
    body.update(extra)
    return body


def parsed(body: Any, *, meeting_id: int = ROOM) -> Frame:
    text = body if isinstance(body, str) else json.dumps(body)
    return parse(text, None, meeting_id=meeting_id)


def error(body: Any, **kwargs: Any) -> FrameError:
    with pytest.raises(FrameError) as caught:
        parsed(body, **kwargs)
    assert caught.value.detail  # a sentence for people
    return caught.value


REQUIRED = [
    (kind, name)
    for kind, fields in DOCUMENTED.items()
    for name, (_, required) in fields.items()
    if required
]
TYPED = [
    (kind, name, bad)
    for kind, fields in DOCUMENTED.items()
    for name, (field_kind, _) in fields.items()
    for bad in WRONG[field_kind]
]


@pytest.mark.parametrize("kind", sorted(DOCUMENTED))
def test_every_documented_type_parses_with_its_required_fields(kind: str) -> None:
    result = parsed(frame(kind))
    assert result.type == kind
    assert result.ref == ""
    required = {n for n, (_, req) in DOCUMENTED[kind].items() if req}
    assert set(result.fields) == required


@pytest.mark.parametrize(
    "kind",
    sorted(k for k, f in DOCUMENTED.items() if any(not r for _, r in f.values())),
)
def test_optional_fields_are_kept_when_given(kind: str) -> None:
    result = parsed(frame(kind, optional=True))
    assert set(result.fields) == set(DOCUMENTED[kind])


@pytest.mark.parametrize(("kind", "name"), REQUIRED)
def test_a_missing_required_field_is_named(kind: str, name: str) -> None:
    body = frame(kind)
    del body[name]
    caught = error(body, meeting_id=ROOM)
    assert caught.code == "missing_field"
    assert name in caught.detail
    assert caught.of == kind


@pytest.mark.parametrize(("kind", "name", "bad"), TYPED)
def test_a_field_of_the_wrong_type_is_refused(kind: str, name: str, bad: Any) -> None:
    body = frame(kind, optional=True)
    body[name] = bad
    caught = error(body)
    assert caught.code == "bad_field"
    assert name in caught.detail
    assert caught.of == kind


@pytest.mark.parametrize(
    "order",
    [["4"], [True, 5], [[4]], [4.0], [None], list(range(501))],
    ids=["text", "bool", "nested", "float", "null", "501-long"],
)
def test_a_reorder_must_list_user_ids(order: list[Any]) -> None:
    caught = error({"type": "queue.reorder", "order": order})
    assert caught.code == "bad_field"


def test_a_reorder_of_500_is_still_accepted() -> None:
    assert (
        len(
            parsed({"type": "queue.reorder", "order": list(range(500))}).fields["order"]
        )
        == 500
    )


# --- not JSON ---------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"type":"chat.send",',
        '{"type":"chat.send","text":"hi"',
        "",
        " ",
        "{'type': 'join'}",
        '{"type":"join"} trailing',
        "undefined",
        '{"type":"join",}',
        "[" * 8000,  # a nesting bomb that fits in a frame
        '{"":' * 1600 + "1" + "}" * 1600,
        '{"type":"resume","after_seq":' + "9" * 5000 + "}",  # over-long number
    ],
    ids=[
        "cut-off",
        "unclosed",
        "empty",
        "blank",
        "single-quotes",
        "trailing",
        "word",
        "trailing-comma",
        "8000-deep-array",
        "1600-deep-object",
        "5000-digits",
    ],
)
def test_what_is_not_json_is_invalid_json(text: str) -> None:
    started = time.perf_counter()
    assert error(text).code == "invalid_json"
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    "text",
    ["[" * 10_000 + "]" * 10_000, '{"type":"resume","after_seq":1' + "0" * 10**6 + "}"],
    ids=["10000-deep", "million-digits"],
)
def test_bombs_bigger_than_a_frame_are_refused_by_size(text: str) -> None:
    assert error(text).code == "too_long"


@pytest.mark.parametrize(
    "text",
    ["[" * 10_000 + "]" * 10_000, '{"type":"resume","after_seq":1' + "0" * 10**6 + "}"],
    ids=["10000-deep", "million-digits"],
)
def test_bombs_are_invalid_json_even_under_a_larger_frame_limit(
    text: str, settings: Any
) -> None:
    settings.HEARTH = {**settings.HEARTH, "FRAME_MAX_BYTES": 4 * 10**6}
    started = time.perf_counter()
    assert error(text).code == "invalid_json"
    assert time.perf_counter() - started < 2


# --- the wrong shape ----------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["[]", '"x"', "123", "null", "true", "{}", '{"type": 5}', '{"type": null}'],
    ids=[
        "list",
        "string",
        "number",
        "null",
        "bool",
        "no-type",
        "number-type",
        "null-type",
    ],
)
def test_anything_but_an_object_with_a_type_is_bad_shape(body: str) -> None:
    assert error(body).code == "bad_shape"


@pytest.mark.parametrize(
    "kind",
    ["room.explode", "lobby.join", "member.leave", "send", "JOIN", ""],
)
def test_unknown_and_internal_types_are_unknown(kind: str) -> None:
    caught = error({"type": kind, "user_id": 2})
    assert caught.code == "unknown_type"


def test_an_unknown_type_is_echoed_short() -> None:
    caught = error({"type": "x" * 5000})
    assert caught.code == "unknown_type"
    assert len(caught.of) <= 40


# --- other sessions, size, binary ------------------------------------------


@pytest.mark.parametrize("key", ["session_id", "room_id", "meeting_id"])
def test_a_frame_naming_another_session_is_wrong_room(key: str) -> None:
    caught = error(frame("chat.send", **{key: ROOM + 1}))
    assert caught.code == "wrong_room"
    assert caught.of == "chat.send"


@pytest.mark.parametrize("key", ["session_id", "room_id", "meeting_id"])
def test_naming_this_session_is_fine(key: str) -> None:
    assert parsed(frame("chat.send", **{key: ROOM})).type == "chat.send"


def test_a_frame_over_8_kib_is_too_long() -> None:
    envelope = len(json.dumps({"type": "chat.send", "text": ""}))
    fits = json.dumps({"type": "chat.send", "text": "a" * (8192 - envelope)})
    assert len(fits) == 8192
    assert parsed(fits).fields["text"]
    over = json.dumps({"type": "chat.send", "text": "a" * (8193 - envelope)})
    caught = error(over)
    assert caught.code == "too_long"
    assert "8192" in caught.detail


def test_the_size_limit_counts_bytes_not_characters() -> None:
    # 3,000 characters, 12,000 bytes in UTF-8.
    text = json.dumps({"type": "chat.send", "text": "😀" * 3000}, ensure_ascii=False)
    assert len(text) < 8192
    assert error(text).code == "too_long"


def test_a_lone_surrogate_does_not_break_the_size_check() -> None:
    text = '{"type":"chat.send","text":"' + "\ud800" * 3000 + '"}'
    assert error(text).code == "too_long"


def test_binary_frames_are_not_supported() -> None:
    with pytest.raises(FrameError) as caught:
        parse(None, b'{"type":"join"}', meeting_id=ROOM)
    assert caught.value.code == "binary_not_supported"


# --- privileged fields and client ids ---------------------------------------


def test_privileged_fields_are_ignored() -> None:
    result = parsed(
        {
            "type": "chat.send",
            "text": "hello",
            "sender_id": 1,
            "user_id": 1,
            "role": "facilitator",
            "is_facilitator": True,
            "seq": 99,
            "created_at": "2020-01-01T00:00:00Z",
            "at": "2020-01-01T00:00:00Z",
            "name": "Facilitator",
        }
    )
    assert result.fields == {"text": "hello"}


def test_privileged_fields_are_ignored_on_actions_too() -> None:
    result = parsed({"type": "hand.raise", "user_id": 1, "role": "facilitator"})
    assert result.fields == {}


def test_the_client_message_id_is_carried_as_the_reference() -> None:
    result = parsed(frame("chat.send", client_msg_id="m-1"))
    assert result.ref == "m-1"
    assert "client_msg_id" not in result.fields
    assert parsed(frame("chat.send", client_msg_id="x" * 64)).ref == "x" * 64


@pytest.mark.parametrize("ref", ["x" * 65, 5, None, ["m"], True])
def test_a_bad_client_message_id_is_a_bad_field(ref: Any) -> None:
    assert error(frame("chat.send", client_msg_id=ref)).code == "bad_field"


def test_errors_after_the_type_echo_the_client_message_id() -> None:
    caught = error({"type": "chat.send", "client_msg_id": "m-9"})
    assert (caught.code, caught.ref, caught.of) == ("missing_field", "m-9", "chat.send")
