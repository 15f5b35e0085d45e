"""Reading the library: filters, and the usage and rating figures per page.

Figures are fetched for one page of prompts at a time (two grouped queries
keyed by prompt id), so a page costs the same at 40 prompts or 10,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from groups.models import Meeting
from prompts.models import PlanAssignment, PlanItem, PromptRating, PromptVersion, Theme
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
    return versions.order_by("title", "pk")


# What a library row shows (prompts/cards.py); anything else would be fetched
# row by row, which the query-count tests catch.
CARD_FIELDS = (
    "prompt_id",
    "number",
    "title",
    "text",
    "kind",
    "intensity",
    "content_note",
    "suggested_minutes",
    "language",
    "author_id",
    "prompt__credit",
    "prompt__author_id",
    "prompt__author__display_name",
    "author__display_name",
)


def listing_rows(page: QuerySet[PromptVersion]) -> list[PromptVersion]:
    """A page of versions with their prompts and authors, fetched by id.

    Joining inside the paginated query lets the planner weigh sorting the
    whole library against walking the title index; picking the page's ids
    first keeps that query on the index whatever the statistics say.
    Themes come from attach_themes (cheaper than a prefetch)."""
    return list(
        PromptVersion.objects.filter(pk__in=page.values("pk"))
        .select_related("prompt__author", "author")
        .only(*CARD_FIELDS)
        .order_by("title", "pk")
    )


# The figures below are raw SQL: as ORM queries (five joins for the sessions)
# they cost more CPU to build than the rest of the library page's queries.


def _figures(
    sql: str, prompt_ids: Sequence[int], params: Sequence[int | str]
) -> list[Any]:
    """Rows of `sql`, whose `{ids}` stands for the prompt ids' placeholders."""
    tables = {
        "item": PlanItem._meta.db_table,
        "version": PromptVersion._meta.db_table,
        "assignment": PlanAssignment._meta.db_table,
        "meeting": Meeting._meta.db_table,
        "rating": PromptRating._meta.db_table,
        "ids": ", ".join(["%s"] * len(prompt_ids)),
    }
    with connection.cursor() as cursor:
        cursor.execute(sql.format(**tables), params)
        return cursor.fetchall()


def count_sessions(*, prompt_ids: Sequence[int]) -> dict[int, int]:
    """How many scheduled sessions have each prompt in their plan, whether
    the plan was attached to the session itself or to its series."""
    if not prompt_ids:
        return {}
    sql = """
        SELECT prompt_id, COUNT(*) FROM (
            -- sessions with a plan of their own
            SELECT v.prompt_id, m.id
            FROM {item} i
            JOIN {version} v ON v.id = i.version_id
            JOIN {assignment} a ON a.plan_id = i.plan_id
            JOIN {meeting} m ON m.id = a.meeting_id
            WHERE v.prompt_id IN ({ids}) AND m.status <> %s
            UNION
            -- sessions without one, which run their series' plan
            SELECT v.prompt_id, m.id
            FROM {item} i
            JOIN {version} v ON v.id = i.version_id
            JOIN {assignment} a ON a.plan_id = i.plan_id
            JOIN {meeting} m ON m.series_id = a.series_id
            WHERE v.prompt_id IN ({ids}) AND m.status <> %s
              AND NOT EXISTS (SELECT 1 FROM {assignment} own WHERE own.meeting_id = m.id)
        ) used
        GROUP BY prompt_id
    """
    cancelled: str = Meeting.Status.CANCELLED.value
    params: list[int | str] = [*prompt_ids, cancelled, *prompt_ids, cancelled]
    return dict(_figures(sql, prompt_ids, params))


def average_ratings(*, prompt_ids: Sequence[int]) -> dict[int, tuple[float, int]]:
    """Members' average helpfulness (1 to 5) and the number of ratings."""
    if not prompt_ids:
        return {}
    sql = """
        SELECT v.prompt_id, AVG(r.score), COUNT(*)
        FROM {rating} r
        JOIN {version} v ON v.id = r.version_id
        WHERE v.prompt_id IN ({ids})
        GROUP BY v.prompt_id
    """
    # float(): PostgreSQL's AVG is a Decimal, SQLite's a float.
    return {
        prompt_id: (round(float(avg), 1), n)
        for prompt_id, avg, n in _figures(sql, prompt_ids, prompt_ids)
    }


def annotate_figures(versions: Sequence[Any]) -> None:
    """Attach `sessions_used` and `rating` (or None) to each version shown."""
    ids = [v.prompt_id for v in versions]
    used = count_sessions(prompt_ids=ids)
    ratings = average_ratings(prompt_ids=ids)
    for version in versions:
        version.sessions_used = used.get(version.prompt_id, 0)  # type: ignore[attr-defined]
        version.rating = ratings.get(version.prompt_id)  # type: ignore[attr-defined]


def attach_themes(versions: Sequence[Any], themes: Sequence[Theme]) -> None:
    """Set `theme_list` on each version, in the themes' own order, from one
    query on the link table (the themes themselves are already loaded)."""
    if not versions:
        return
    links = PromptVersion.themes.through.objects.filter(
        promptversion_id__in=[v.pk for v in versions]
    ).values_list("promptversion_id", "theme_id")
    chosen: dict[int, set[int]] = {}
    for version_id, theme_id in links:
        chosen.setdefault(version_id, set()).add(theme_id)
    for version in versions:
        ids = chosen.get(version.pk, set())
        version.theme_list = [t for t in themes if t.pk in ids]
