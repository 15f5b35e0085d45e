"""M-24: every system text the safety app writes carries a resource line and
a hope line, and none of the blocked method terms."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from safety.notices import render_notice
from safety.services import crisis_card
from tests.factories import MembershipFactory

DATA = Path(__file__).parent / "data"
BLOCKED = [
    line.strip().lower()
    for line in (DATA / "blocked_terms.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
MARKERS = json.loads((DATA / "safe_text_markers.json").read_text())
TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "safety"


def _check(text: str, where: str) -> None:
    low = " ".join(html.unescape(text).lower().split()).replace("\u2019", "'")
    assert any(m in low for m in MARKERS["hope"]), f"{where}: no line of hope"
    assert any(m in low for m in MARKERS["resource"]), f"{where}: no way to get help"
    for term in BLOCKED:
        assert not re.search(rf"\b{re.escape(term)}\b", low), f"{where}: {term!r}"


def _cards() -> list[tuple[str, dict[str, object]]]:
    return [
        (f"{tier}/{country}", crisis_card(country, tier))  # type: ignore[misc]
        for tier in ("concern", "method", "imminent", "third_party")
        for country in ("US", "GB", "IE", "AU", None)
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("resources")
def test_crisis_cards_as_data_and_as_html() -> None:
    for where, card in _cards():
        words = (
            " ".join(str(card[k]) for k in ("title", "hope", "body", "notice"))
            + " "
            + card["emergency"]["text"]
            + " "
            + str(card["more_url"])
        )  # type: ignore[index]
        _check(words, where)
        page = render_to_string("safety/_crisis_card.html", {"card": card})
        _check(page, where + " html")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kind", ["blocked", "held", "muted", "report_received", "report_resolved"]
)
def test_notices(kind: str) -> None:
    text = render_notice(kind, explanation="", until=timezone.now(), outcome="hidden")  # type: ignore[arg-type]
    _check(text, kind)


@pytest.mark.django_db
@pytest.mark.parametrize("escalation", [False, True])
@pytest.mark.parametrize("suffix", ["txt", "html"])
def test_alert_emails(suffix: str, escalation: bool) -> None:
    from safety.models import SafetyAlert

    membership = MembershipFactory()
    alert = SafetyAlert.objects.create(
        group=membership.group, subject=membership.user, tier="imminent"
    )
    text = render_to_string(
        f"safety/email/alert.{suffix}",
        {
            "alert": alert,
            "group": alert.group,
            "tier_label": alert.get_tier_display(),
            "queue_url": "https://hearth.example/moderation/",
            "support_url": "https://hearth.example/support/",
            "escalation": escalation,
            "site_url": "https://hearth.example",
        },
    )
    _check(text, f"alert.{suffix}")


@pytest.mark.django_db
@pytest.mark.usefixtures("resources")
def test_asking_for_help_cards_and_page(rf: Any, member: Any) -> None:
    """The cards "I'd like support" and "I'm not safe right now" show, and
    the footer's page, for a member and for a visitor."""
    from django.contrib.auth.models import AnonymousUser

    from safety.services import ask_for_support, say_not_safe
    from safety.views.not_safe import not_safe

    group = member.memberships.first().group
    answers = [
        ask_for_support(group=group, member=member, facilitators_connected=True),
        say_not_safe(member=member, targets=[(group, None)]),
        say_not_safe(member=AnonymousUser(), targets=[]),
    ]
    for answer in answers:
        card = answer.card
        words = " ".join(str(card[k]) for k in ("title", "hope", "body", "notice"))  # type: ignore[literal-required]
        _check(f"{words} {card['emergency']['text']}", card["notice"])
    for user in (member, AnonymousUser()):
        for method in ("get", "post"):
            request = getattr(rf, method)("/support/not-safe/")
            request.user = user
            request._dont_enforce_csrf_checks = True
            _check(not_safe(request).content.decode(), f"not_safe.html {method}")


def test_every_safety_template_file_is_checked_somewhere() -> None:
    """New system templates must be added to a test above."""
    covered = {
        "_crisis_card.html",
        "email/alert.txt",
        "email/alert.html",
        *(
            f"notices/{n}.txt"
            for n in ("blocked", "held", "muted", "report_received", "report_resolved")
        ),
    }
    pages = {
        "_resource.html",
        "support.html",
        "my_reports.html",
        "queue.html",
        "group_support.html",
        "guidelines_accept.html",
    }
    covered.add("not_safe.html")
    found = {str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.*")}
    assert found == covered | pages


@pytest.mark.parametrize(
    "name",
    ["_crisis_card.html", "notices/blocked.txt", "email/alert.txt", "not_safe.html"],
)
def test_template_sources_hold_no_blocked_terms(name: str) -> None:
    low = (TEMPLATES / name).read_text().lower()
    for term in BLOCKED:
        assert not re.search(rf"\b{re.escape(term)}\b", low), term
