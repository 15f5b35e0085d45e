"""Short system notices for members (block, hold, mute, report outcomes).

Each is a template under templates/safety/notices/, so the safe-wording
check in tests/safety/test_system_text.py covers them: every notice carries
a way to get support and a line of hope, and no method words.
"""

from __future__ import annotations

from typing import Any, Literal

from django.template.loader import render_to_string
from django.urls import reverse

Notice = Literal["blocked", "held", "muted", "report_received", "report_resolved"]


def render_notice(kind: Notice, **context: Any) -> str:
    context.setdefault("support_url", reverse("safety:support"))
    text = render_to_string(f"safety/notices/{kind}.txt", context)
    return " ".join(text.split())
