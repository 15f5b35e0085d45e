"""The development outbox: every email is written as one .eml file.

A real email path (Django's email framework, MIME, headers, attachments)
without a mail server. Production sets EMAIL_URL and sends over SMTP.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

log = logging.getLogger(__name__)


class OutboxBackend(BaseEmailBackend):
    def __init__(self, *, directory: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.directory = Path(directory)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.directory.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
            name = f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
            tmp = self.directory / f".{name}.tmp"
            tmp.write_bytes(message.message().as_bytes())
            tmp.replace(self.directory / name)  # readers never see half a file
            # Only the file name: subjects and addresses stay out of logs.
            log.info("email written to outbox file=%s", name)
            sent += 1
        return sent


def read_outbox(directory: str | os.PathLike[str]) -> list[Path]:
    """The outbox files, newest first."""
    path = Path(directory)
    if not path.exists():
        return []
    return sorted(path.glob("*.eml"), reverse=True)
