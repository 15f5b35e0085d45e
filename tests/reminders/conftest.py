from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import pytest
from django.core import mail

from groups.models import Membership
from reminders.services.sweep import run_sweep
from tests.factories import MembershipFactory, UserFactory

UTC = dt.UTC


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def parsed(message: Any) -> EmailMessage:
    """A locmem message as the recipient's mail app would parse it."""
    raw = message.message().as_bytes()
    result = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(result, EmailMessage)
    return result


def text_of(message: Any) -> str:
    part = parsed(message).get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: Any) -> str:
    part = parsed(message).get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def ics_of(message: Any) -> tuple[str, bytes]:
    for part in parsed(message).iter_attachments():
        if part.get_content_type() == "text/calendar":
            return str(part.get_param("method")), part.get_payload(decode=True)
    raise AssertionError("no calendar attachment")


def sent_to(address: str, subject: str = "") -> list[Any]:
    return [m for m in mail.outbox if address in m.to and subject in m.subject]


@pytest.fixture
def sweep() -> Callable[..., Any]:
    return run_sweep


@pytest.fixture
def people(group: Any) -> dict[str, Any]:
    """Members around the world, plus a facilitator in London."""
    found = {
        "facilitator": MembershipFactory(
            group=group,
            role="facilitator",
            user=UserFactory(timezone="Europe/London", display_name="Lead"),
        ).user
    }
    for key, zone in (
        ("berlin", "Europe/Berlin"),
        ("new_york", "America/New_York"),
        ("kolkata", "Asia/Kolkata"),
        ("lord_howe", "Australia/Lord_Howe"),
    ):
        found[key] = UserFactory(timezone=zone, display_name=f"Member {key}")
        Membership.objects.create(group=group, user=found[key])
    return found
