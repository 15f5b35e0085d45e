"""Template fragments rendered once per content and kept in the process.

For list rows that cost more to render than to describe (the directory's
groups, the library's prompts): the caller's key holds every value the
fragment shows, so any change makes a new key and never serves a stale
fragment; nothing needs invalidating. Rendering them was most of those
pages' CPU. Fragments must not depend on the request (no CSRF token, no
user).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.autoreload import file_changed

# Typically 2-3 KB each with its key; a full store is dropped and refilled
# (simpler than an LRU, and refilling costs one render per row).
MAX_FRAGMENTS = 4096
# Values are SafeStrings: render_to_string marks its output safe.
_fragments: dict[tuple[object, ...], str] = {}


def render_once(template: str, key: tuple[object, ...], context: dict[str, Any]) -> str:
    """`template` rendered with `context`, once per `key` (plus the active
    language and time zone, which dates and labels depend on)."""
    full_key = (
        template,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        *key,
    )
    html = _fragments.get(full_key)
    if html is None:
        if len(_fragments) >= MAX_FRAGMENTS:
            _fragments.clear()
        html = _fragments[full_key] = render_to_string(template, context)
    return html


@receiver(file_changed, dispatch_uid="groups.fragments.file_changed")
def _forget_on_edit(sender: object, file_path: Path, **kwargs: object) -> None:
    """runserver reloads templates without restarting: show edits at once."""
    _fragments.clear()
