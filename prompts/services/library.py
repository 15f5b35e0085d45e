"""Reading the library: filters, and the usage and rating figures per page.

Figures are fetched for one page of prompts at a time (two grouped queries
keyed by prompt id), so a page costs the same at 40 prompts or 10,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Q

from groups.models import Meeting
from prompts.models import PromptRating, PromptVersion
from prompts.models.library import PromptVersionQuerySet


@dataclass(frozen=True)
class LibraryFilter:
    query: str = ""
    kind: str = ""
    theme: str = ""
    intensity: str = ""


def search_library(*, filters: LibraryFilter) -> PromptVersionQuerySet:
    """Published versions matching the filters, in title order."""
    versions = PromptVersion.objects.published()
    if filters.kind:
        versions = versions.filter(kind=filters.kind)
    if filters.intensity:
        versions = versions.filter(intensity=filters.intensity)
    if filters.theme:
        versions = versions.filter(themes__slug=filters.theme)
    if filters.query:
        words = filters.query.split()[:8]
        for word in words:
            versions = versions.filter(
                Q(title__icontains=word)
                | Q(text__icontains=word)
                | Q(content_note__icontains=word)
            )
    return versions.for_listing().order_by("title", "pk")


def count_sessions(*, prompt_ids: Sequence[int]) -> dict[int, int]:
    """How many scheduled sessions have each prompt in their plan, whether
    the plan was attached to the session itself or to its series."""
    if not prompt_ids:
        return {}
    direct = Q(plan_assignment__plan__items__version__prompt_id__in=prompt_ids)
    via_series = Q(
        plan_assignment__isnull=True,
        series__plan_assignment__plan__items__version__prompt_id__in=prompt_ids,
    )
    counts: dict[int, int] = {}
    for path, condition in (
        ("plan_assignment__plan__items__version__prompt_id", direct),
        ("series__plan_assignment__plan__items__version__prompt_id", via_series),
    ):
        rows = (
            Meeting.objects.exclude(status=Meeting.Status.CANCELLED)
            .filter(condition)
            .values(path)
            .annotate(n=Count("pk", distinct=True))
            .order_by()
        )
        for row in rows:
            prompt_id = row[path]
            if prompt_id in prompt_ids:
                counts[prompt_id] = counts.get(prompt_id, 0) + row["n"]
    return counts


def average_ratings(*, prompt_ids: Sequence[int]) -> dict[int, tuple[float, int]]:
    """Members' average helpfulness (1 to 5) and the number of ratings."""
    if not prompt_ids:
        return {}
    rows = (
        PromptRating.objects.filter(version__prompt_id__in=prompt_ids)
        .values("version__prompt_id")
        .annotate(avg=Avg("score"), n=Count("pk"))
        .order_by()
    )
    # float(): PostgreSQL's AVG is a Decimal, SQLite's a float.
    return {r["version__prompt_id"]: (round(float(r["avg"]), 1), r["n"]) for r in rows}


def annotate_figures(versions: Sequence[Any]) -> None:
    """Attach `sessions_used` and `rating` (or None) to each version shown."""
    ids = [v.prompt_id for v in versions]
    used = count_sessions(prompt_ids=ids)
    ratings = average_ratings(prompt_ids=ids)
    for version in versions:
        version.sessions_used = used.get(version.prompt_id, 0)  # type: ignore[attr-defined]
        version.rating = ratings.get(version.prompt_id)  # type: ignore[attr-defined]
