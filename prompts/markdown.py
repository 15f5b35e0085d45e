"""A tiny, safe Markdown subset for prompt text.

The input is HTML-escaped first, so raw HTML can only ever show up as
text; the small amount of markup built here is then passed through nh3
with an allow-list, as a second wall. Supported: paragraphs (blank lines),
line breaks, *emphasis* / _emphasis_, **strong**, bulleted (“- ”, “* ”) and
numbered (“1. ”) lists, and [links](https://…) with https only.
"""

from __future__ import annotations

import html
import re

import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {"p", "br", "em", "strong", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
LINK_REL = "noopener noreferrer nofollow"

_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\(([^)\s]{1,500})\)")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EM_STAR = re.compile(r"(?<![*\w])\*(?=\S)(.+?)(?<=\S)\*(?![*\w])")
_EM_UNDERSCORE = re.compile(r"(?<![_\w])_(?=\S)(.+?)(?<=\S)_(?![_\w])")


def _link(match: re.Match[str]) -> str:
    label, url = match.group(1), match.group(2)
    # The URL is already escaped; unescape to judge its scheme honestly.
    if not html.unescape(url).lower().startswith("https://"):
        return label
    return f'<a href="{url}">{label}</a>'


def _inline(text: str) -> str:
    text = _LINK.sub(_link, text)
    text = _STRONG.sub(r"<strong>\1</strong>", text)
    text = _EM_STAR.sub(r"<em>\1</em>", text)
    return _EM_UNDERSCORE.sub(r"<em>\1</em>", text)


def _block(lines: list[str]) -> str:
    for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
        matches = [pattern.match(line) for line in lines]
        if all(matches):
            items = "".join(f"<li>{_inline(m.group(1))}</li>" for m in matches if m)
            return f"<{tag}>{items}</{tag}>"
    return "<p>" + "<br>".join(_inline(line.strip()) for line in lines) + "</p>"


def to_html(source: str) -> str:
    """Render prompt text to sanitised HTML (a plain string)."""
    escaped = html.escape(source.replace("\r\n", "\n"), quote=True)
    blocks: list[list[str]] = [[]]
    for line in escaped.split("\n"):
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    rendered = "".join(_block(lines) for lines in blocks if lines)
    return nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"https"},
        link_rel=LINK_REL,
        strip_comments=True,
    )


def render(source: str) -> SafeString:
    """Prompt text as HTML that is safe to place in any page or email."""
    # Safe: every byte of the source was escaped, then cleaned by nh3.
    return mark_safe(to_html(source or ""))


def to_plain(source: str) -> str:
    """Prompt text for plain-text email: markup removed, nothing executable."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", source or "")
    return re.sub(r"(\*\*|\*|_)(?=\S)(.+?)(?<=\S)\1", r"\2", text)
