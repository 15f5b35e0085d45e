"""Signed one-click unsubscribe links (RFC 8058).

The token names the person, the family of emails and the group; it is
signed, so the link alone is the permission and nothing is stored. Using it
twice does the same thing once.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core import signing
from django.urls import reverse

from accounts.emails import absolute

from .models import Family

SALT = "hearth.reminders.unsubscribe"


@dataclass(frozen=True)
class Scope:
    user_id: int
    family: str
    group_id: int | None


def make_token(*, user_id: int, family: str, group_id: int | None) -> str:
    return signing.dumps({"u": user_id, "f": family, "g": group_id}, salt=SALT)


def read_token(token: str) -> Scope | None:
    try:
        data = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    user_id, family, group_id = data.get("u"), data.get("f"), data.get("g")
    if not isinstance(user_id, int) or family not in Family.values:
        return None
    if group_id is not None and not isinstance(group_id, int):
        return None
    return Scope(user_id, family, group_id)


def unsubscribe_url(*, user_id: int, family: str, group_id: int | None) -> str:
    token = make_token(user_id=user_id, family=family, group_id=group_id)
    return absolute(reverse("reminders:unsubscribe", args=[token]))


def headers(url: str) -> dict[str, str]:
    """The two headers that let mail apps offer a one-click unsubscribe."""
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
