"""One way to send a templated email: text and HTML parts, safe headers.

Callers pass ids to Celery; the task loads rows and calls `send_templated`
(or builds many with `templated_message` and sends them over one connection).
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
    message = templated_message(
        to=to,
        subject=subject,
        template=template,
        context=context,
        recipient_timezone=recipient_timezone,
        attachments=attachments,
        headers=headers,
    )
    return message.send() if message is not None else 0


def templated_message(
    *,
    to: Iterable[str],
    subject: str,
    template: str,
    context: dict[str, Any],
    recipient_timezone: str = "UTC",
    attachments: Iterable[tuple[str, bytes, str]] = (),
    headers: dict[str, str] | None = None,
    message_class: type[EmailMultiAlternatives] = EmailMultiAlternatives,
) -> EmailMultiAlternatives | None:
    """The message `send_templated` sends, for callers that send many over
    one connection; None when there is nobody to send it to."""
    recipients = [address for address in to if address]
    if not recipients:
        return None
    context = {"site_url": settings.SITE_URL, **context}
    with timezone.override(recipient_timezone):
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = message_class(
        subject=one_line(f"Hearth: {subject}"),
        body=text,
        to=recipients,
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        message.attach(filename, content, mimetype)
    return message
