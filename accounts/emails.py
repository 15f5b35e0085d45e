"""One way to send a templated email: text and HTML parts, safe headers.

Callers pass ids to Celery; the task loads rows and calls `send_templated`.
Names in subjects are flattened to one line so nothing can add a header.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone


def one_line(text: str, limit: int = 150) -> str:
    return " ".join(str(text).split())[:limit]


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def send_templated(
    *,
    to: Iterable[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    recipient_timezone: str = "UTC",
    attachments: Iterable[tuple[str, bytes, str]] = (),
    headers: dict[str, str] | None = None,
) -> int:
    """Render `<template>.txt` and `<template>.html` and send one message."""
    recipients = [address for address in to if address]
    if not recipients:
        return 0
    context = {"site_url": settings.SITE_URL, **context}
    with timezone.override(recipient_timezone):
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(
        subject=one_line(f"Hearth: {subject}"),
        body=text,
        to=recipients,
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message.send()
