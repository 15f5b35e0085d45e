"""The starter library: original prompts and session plans shipped with Hearth.

`load_starter_library()` is idempotent: prompts and plans are matched by
their stable keys and only missing ones are created, so running it again
changes nothing, and a curator's later edits or retirements are never
undone by a re-run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from prompts.models import PlanItem, PromptVersion, SessionPlan
from prompts.services import transfer

DATA_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class StarterResult:
    prompts_created: int
    plans_created: int


def _read(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


@transaction.atomic
def load_starter_library() -> StarterResult:
    """Create any missing starter prompts (published) and starter plans."""
    prompts = _read("prompts.json")
    result = transfer.import_prompts(
        rows=enumerate(prompts["prompts"], start=1),
        publish=True,
        only_new=True,
        credit=prompts["credit"],
    )
    plans_created = 0
    for spec in _read("plans.json")["plans"]:
        if SessionPlan.objects.filter(key=spec["key"]).exists():
            continue
        _create_plan(spec)
        plans_created += 1
    return StarterResult(prompts_created=result.created, plans_created=plans_created)


def _create_plan(spec: dict[str, Any]) -> SessionPlan:
    plan = SessionPlan.objects.create(
        key=spec["key"],
        title=spec["title"],
        description=spec["description"],
        is_template=True,
    )
    slugs = [item["prompt"] for item in spec["items"]]
    # A starter prompt a curator has since retired is simply left out.
    versions = {
        v.prompt.slug: v
        for v in PromptVersion.objects.published()
        .filter(prompt__slug__in=slugs)
        .select_related("prompt")
    }
    PlanItem.objects.bulk_create(
        PlanItem(plan=plan, version=versions[s], minutes=item["minutes"], position=n)
        for n, (s, item) in enumerate(zip(slugs, spec["items"], strict=True))
        if s in versions
    )
    return plan
