"""Asking the mailer whether a message already left.

Used only for a delivery whose worker died between claiming it and
recording the result. The file outbox and Django's test backend can answer
(each keeps every message); SMTP cannot, so the answer there is None.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core import mail

from accounts.mail import OutboxBackend

HEADER_BYTES = 8192


def _in_outbox(directory: Path, message_id: str, since: dt.datetime | None) -> bool:
    if not directory.exists():
        return False
    needle = f"Message-ID: {message_id}".encode().lower()
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
        if needle in head:
            return True
    return False


def accepted(message_id: str, *, since: dt.datetime | None = None) -> bool | None:
    """True or False when the mailer can tell; None when it cannot."""
    backend = mail.mailers.default
    if isinstance(backend, OutboxBackend):
        return _in_outbox(backend.directory, message_id, since)
    if type(backend).__module__ == "django.core.mail.backends.locmem":
        return any(
            m.extra_headers.get("Message-ID") == message_id
            for m in getattr(mail, "outbox", [])
        )
    return None
