from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.template import Context, Template

from prompts.markdown import to_html, to_plain

HOSTILE = [
    "<script>alert('x')</script>",
    '<img src="x" onerror="alert(1)">',
    '<a href="https://ok.example" onclick="steal()">hi</a>',
    "[click me](javascript:alert(1))",
    "[click me](JaVaScRiPt:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD4=)",
    '[sneaky](https://ok.example" onmouseover="alert(1))',
    "<svg onload=alert(1)>",
    "**<iframe src=https://evil.example></iframe>**",
]


class TagAudit(HTMLParser):
    """Collects every real element and attribute a browser would build."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def audit(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = TagAudit()
    parser.feed(html)
    return parser.tags


def assert_inert(html: str) -> None:
    for tag, attrs in audit(html):
        assert tag in {"p", "br", "em", "strong", "ul", "ol", "li", "a"}, tag
        for name, value in attrs:
            assert not name.startswith("on"), name
            assert name in {"href", "rel"}, name
            if name == "href":
                assert (value or "").startswith("https://"), value


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_text_renders_inert(source: str) -> None:
    assert_inert(to_html(source))


def test_raw_html_is_shown_as_text_not_markup() -> None:
    assert to_html("<b>bold?</b>") == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>"


def test_subset_renders_paragraphs_emphasis_lists_and_https_links() -> None:
    html = to_html(
        "You may *pass*, always.\nA **gentle** start.\n\n- one\n- two\n\n"
        "1. first\n2. second\n\nSee [this guide](https://example.org/a?b=1&c=2)."
    )
    assert (
        "<p>You may <em>pass</em>, always.<br>A <strong>gentle</strong> start.</p>"
        in html
    )
    assert "<ul><li>one</li><li>two</li></ul>" in html
    assert "<ol><li>first</li><li>second</li></ol>" in html
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" '
        'rel="noopener noreferrer nofollow">this guide</a>'
    ) in html


def test_plain_http_links_are_left_as_text() -> None:
    html = to_html("[old site](http://example.org)")
    assert "<a" not in html
    assert "old site" in html


def test_underscores_inside_words_stay_literal() -> None:
    assert to_html("snake_case_name") == "<p>snake_case_name</p>"


def test_template_filter_escapes_hostile_text() -> None:
    rendered = Template("{% load prompt_text %}{{ text|prompt_markdown }}").render(
        Context({"text": '<script>x()</script> [a](javascript:x) <b onclick="x">'})
    )
    assert_inert(rendered)
    assert "&lt;script&gt;" in rendered


def test_plain_text_for_email_drops_markup() -> None:
    assert to_plain("A *soft* **start** [here](https://e.org)") == (
        "A soft start here (https://e.org)"
    )
