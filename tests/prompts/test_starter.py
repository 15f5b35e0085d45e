from __future__ import annotations

import io
import re

from django.core.management import call_command

from prompts.models import Prompt, PromptVersion, ReviewComment, SessionPlan
from prompts.starter import load_starter_library

REQUIRED_PLANS = {
    "Asking for help without apology",
    "Carrying it all alone",
    "Trust, a little at a time",
    "Rest is not a reward",
}


def snapshot() -> tuple:
    return (
        list(PromptVersion.objects.values_list("pk", "status", "title").order_by("pk")),
        list(SessionPlan.objects.values_list("pk", "title").order_by("pk")),
        ReviewComment.objects.count(),
    )


def test_loads_at_least_40_published_prompts_and_4_plans(db) -> None:
    result = load_starter_library()
    assert result.prompts_created >= 40
    assert PromptVersion.objects.published().count() >= 40
    titles = set(SessionPlan.objects.values_list("title", flat=True))
    assert titles >= REQUIRED_PLANS
    for plan in SessionPlan.objects.all():
        kinds = [i.version.kind for i in plan.items.order_by("position")]
        assert kinds[0] == "check-in" and "closing" in kinds and "grounding" in kinds
        assert plan.is_template and plan.total_minutes() <= 60


def test_loading_twice_changes_nothing(db) -> None:
    load_starter_library()
    before = snapshot()
    out = io.StringIO()
    call_command("load_starter_prompts", stdout=out)
    assert "0 prompts and 0 plans created" in out.getvalue()
    assert snapshot() == before


def test_a_rerun_never_undoes_a_curators_retirement(db, staff) -> None:
    from prompts.services import workflow

    load_starter_library()
    prompt = Prompt.objects.get(slug="battery-level")
    workflow.retire_prompt(prompt=prompt, by=staff)
    load_starter_library()
    assert not PromptVersion.objects.published().filter(prompt=prompt).exists()


def test_every_starter_prompt_is_an_invitation_with_room_to_pass(db) -> None:
    load_starter_library()
    for version in PromptVersion.objects.published():
        text = version.text.lower()
        assert not re.search(r"\byou must\b|\byou have to\b|\btell us exactly\b", text)
        invitations = (
            "?",
            "if you",
            "if it feels",
            "you're welcome",
            "you can",
            "you might",
        )
        assert any(words in text for words in invitations), version
        if version.intensity == "deep":
            assert version.content_note, version.title
        assert version.themes.exists(), version.title
    assert Prompt.objects.filter(credit="Hearth starter library").count() >= 40
