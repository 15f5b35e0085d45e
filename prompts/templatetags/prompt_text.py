"""`{% load prompt_text %}{{ version.text|prompt_markdown }}` wherever prompt
text is shown (library, room, emails)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from prompts import markdown

register = template.Library()


@register.filter
def prompt_markdown(value: str | None) -> SafeString:
    return markdown.render(value or "")


@register.filter
def prompt_plain(value: str | None) -> str:
    """For plain-text email bodies (autoescaping stays on in HTML)."""
    return markdown.to_plain(value or "")
