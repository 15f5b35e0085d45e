"""The mailer side of reminders: the message class they are sent as, and
asking the mailer whether a message already left.

`accepted` is used only for deliveries whose worker died between claiming
them and recording the result. The file outbox and Django's test backend
can answer (each keeps every message); SMTP cannot, so the answer there is
None.
"""

from __future__ import annotations

import datetime as dt
import email.policy
from collections.abc import Iterable
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage as MIMEMessage
from email.policy import Policy
from pathlib import Path
from typing import Any

from django.core import mail
from django.core.mail import EmailMultiAlternatives

from accounts.mail import OutboxBackend

HEADER_BYTES = 8192


class _HeaderCache(HeaderRegistry):
    """The standard header registry with two memos; parsing, checks and
    output are unchanged.

    The stdlib makes a new class with type() for every header it parses,
    and a reminder sets about 23 headers, 17 of them the same in every
    email (its MIME structure, From). Each class is made once, and those
    repeating headers are parsed once and shared: header objects are
    immutable (a change makes a new one)."""

    SHARED = frozenset(
        {
            "content-type",
            "content-transfer-encoding",
            "content-disposition",
            "mime-version",
            "from",
            "list-unsubscribe-post",
        }
    )
    LIMIT = 256

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[type, type[BaseHeader]] = {}
        self._parsed: dict[tuple[str, str], BaseHeader] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        cls = self.registry.get(name.lower(), self.default_class)
        made = self._classes.get(cls)
        if made is None:
            made = type("_" + cls.__name__, (cls, self.base_class), {})
            self._classes[cls] = made
        return made

    def __call__(self, name: str, value: Any) -> BaseHeader:
        if (
            not isinstance(value, str)
            or name.lower() not in self.SHARED
            or "boundary=" in value  # one per message
        ):
            return super().__call__(name, value)
        key = (name, value)
        header = self._parsed.get(key)
        if header is None:
            header = super().__call__(name, value)
            if len(self._parsed) < self.LIMIT:
                self._parsed[key] = header
        return header


_HEADERS = _HeaderCache()
# The policies Django's backends build with (SMTP's ends lines in CRLF),
# each with the cached registry.
_FASTER = [
    (standard, standard.clone(header_factory=_HEADERS))
    for standard in (email.policy.default, email.policy.SMTP, email.policy.SMTPUTF8)
]


class ReminderEmail(EmailMultiAlternatives):
    """Django's message, built with the same policy but the cached header
    registry: every mail backend calls message() once per email."""

    def message(self, *, policy: Policy | None = email.policy.default) -> MIMEMessage:
        for standard, faster in _FASTER:
            if policy is standard:
                return super().message(policy=faster)
        return super().message(policy=policy)


def _in_outbox(
    directory: Path, message_ids: set[str], since: dt.datetime | None
) -> set[str]:
    if not directory.exists() or not message_ids:
        return set()
    needles = {f"Message-ID: {m}".encode().lower(): m for m in message_ids}
    found: set[str] = set()
    # Files are written whole (temp file, then rename); a small clock
    # margin covers the file system's timestamp resolution.
    cutoff = since.timestamp() - 5 if since else 0
    for path in directory.glob("*.eml"):
        try:
            if path.stat().st_mtime < cutoff:
                continue
            with path.open("rb") as handle:
                head = handle.read(HEADER_BYTES).lower()
        except OSError:
            continue
        found.update(m for needle, m in needles.items() if needle in head)
        if len(found) == len(needles):
            break
    return found


def accepted_among(
    message_ids: Iterable[str], *, since: dt.datetime | None = None
) -> set[str] | None:
    """Which of these messages the mailer has, when it can tell (one pass
    over the outbox for a whole batch); None when it cannot."""
    wanted = set(message_ids)
    backend = mail.mailers.default
    if isinstance(backend, OutboxBackend):
        return _in_outbox(backend.directory, wanted, since)
    if type(backend).__module__ == "django.core.mail.backends.locmem":
        return {
            m.extra_headers.get("Message-ID") for m in getattr(mail, "outbox", [])
        } & wanted
    return None


def accepted(message_id: str, *, since: dt.datetime | None = None) -> bool | None:
    """True or False when the mailer can tell; None when it cannot."""
    found = accepted_among([message_id], since=since)
    return None if found is None else message_id in found
