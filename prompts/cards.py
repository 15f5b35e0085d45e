"""A library row, rendered once per content (groups/views/fragments.py).

A row shows a published version's title, badges, content note, Markdown
text, credit line and usage figures. The key below lists every value the
template (templates/prompts/_card.html) reads: add to it when the template
shows something new.
"""

from __future__ import annotations

from typing import Any

from groups.views.fragments import render_once


def card(version: Any) -> str:
    """Needs `theme_list`, `sessions_used` and `rating` attached (see
    prompts.services.library) and the prompt and both authors loaded."""
    prompt = version.prompt
    key = (
        version.pk,
        version.prompt_id,
        version.title,
        version.text,
        version.kind,
        version.intensity,
        version.suggested_minutes,
        version.language,
        version.content_note,
        tuple(theme.name for theme in version.theme_list),
        prompt.credit,
        prompt.author_id,
        prompt.author.display_name if prompt.author else None,
        version.number,
        version.author_id,
        version.author.display_name if version.author else None,
        version.sessions_used,
        version.rating,
    )
    context = {"version": version, "prompt": prompt, "themes": version.theme_list}
    return render_once("prompts/_card.html", key, context)
