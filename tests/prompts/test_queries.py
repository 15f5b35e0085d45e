"""Library pages cost a fixed number of queries, at 30 prompts or 10,000."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from prompts.models import Kind, Prompt, PromptRating, PromptVersion, Theme
from prompts.services import plans as plan_service
from tests.factories import MeetingFactory
from tests.prompts.factories import PlanItemFactory, SessionPlanFactory

Status = PromptVersion.Status
KINDS = list(Kind.values)

# Measured at 10,000 prompts: library 11 (6 on an empty result), review
# queue 7, my prompts 7, plans 7, a plan 8, a prompt 13. Four of those are the
# session, the user and the user's two permission look-ups.
MAX_QUERIES = 13


def make_prompts(count: int, *, start: int, author) -> None:  # type: ignore[no-untyped-def]
    """Bulk-create published prompts, a tenth with a submitted revision."""
    now = timezone.now()
    prompts = Prompt.objects.bulk_create(
        Prompt(slug=f"bulk-{n}", author=author) for n in range(start, start + count)
    )
    versions = [
        PromptVersion(
            prompt=p,
            number=1,
            title=f"Bulk prompt {n:05d} about asking",
            text="Would you like to *share*? Passing is welcome.",
            kind=KINDS[n % len(KINDS)],
            intensity=["gentle", "moderate", "deep"][n % 3],
            content_note="A note" if n % 3 == 2 else "",
            status=Status.PUBLISHED,
            published_at=now,
            author=author,
        )
        for n, p in enumerate(prompts, start=start)
    ]
    revisions = [
        PromptVersion(
            prompt=p,
            number=2,
            title=f"Bulk prompt {n:05d}, revised",
            text="Revised.",
            kind=Kind.DISCUSSION,
            status=Status.SUBMITTED,
            submitted_at=now,
            author=author,
        )
        for n, p in enumerate(prompts[::10], start=start)
    ]
    created = PromptVersion.objects.bulk_create(versions + revisions)
    themes = list(Theme.objects.all())
    through = PromptVersion.themes.through
    through.objects.bulk_create(
        through(promptversion_id=v.pk, theme_id=themes[i % len(themes)].pk)
        for i, v in enumerate(created)
    )


def count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.fixture
def plan_with_usage(facilitator, group, member):  # type: ignore[no-untyped-def]
    """A plan on two sessions, with ratings, so the figures are not empty."""
    plan = SessionPlanFactory(owner=facilitator)
    for _ in range(3):
        PlanItemFactory(plan=plan)
    for _ in range(2):
        meeting = MeetingFactory(group=group)
        plan_service.attach_plan(plan=plan, by=facilitator, meeting=meeting)
    version = plan.items.first().version
    PromptRating.objects.create(
        member=member, version=version, meeting=meeting, score=4
    )
    return plan


def urls(plan) -> list[str]:  # type: ignore[no-untyped-def]
    first = Prompt.objects.order_by("pk").first()
    return [
        "/prompts/",
        "/prompts/?page=2",
        "/prompts/?page=last",
        "/prompts/?kind=discussion&theme=trust&intensity=gentle",
        "/prompts/?q=bulk+asking",
        f"/prompts/?plan={plan.pk}",
        "/prompts/review/",
        "/prompts/review/?page=3",
        "/prompts/mine/",
        "/prompts/mine/?page=5",
        "/prompts/plans/",
        f"/prompts/plans/{plan.pk}/",
        f"/prompts/{first.pk}/",
    ]


def test_library_pages_run_constant_queries_at_10000_prompts(  # type: ignore[no-untyped-def]
    client, curator, facilitator, plan_with_usage, django_assert_max_num_queries
):
    make_prompts(100, start=0, author=curator)
    client.force_login(curator)
    plan_with_usage.owner = curator
    plan_with_usage.save()
    small = {url: count(client, url) for url in urls(plan_with_usage)}

    make_prompts(9_900, start=100, author=curator)
    assert PromptVersion.objects.published().count() >= 10_000
    for _ in range(20):
        PlanItemFactory(plan=plan_with_usage)
    large = {url: count(client, url) for url in urls(plan_with_usage)}

    assert large == small
    for url in urls(plan_with_usage):
        with django_assert_max_num_queries(MAX_QUERIES):
            client.get(url)


def test_library_list_is_fast_at_10000_prompts(client, curator):  # type: ignore[no-untyped-def]
    """A coarse guard (the benchmark suite measures properly): the first
    page and a text search stay well under half a second on SQLite."""
    make_prompts(10_000, start=0, author=curator)
    client.force_login(curator)
    client.get("/prompts/")  # warm caches and templates
    for url in (
        "/prompts/",
        "/prompts/?q=asking&kind=discussion",
        "/prompts/?page=300",
    ):
        started = time.perf_counter()
        client.get(url)
        assert time.perf_counter() - started < 0.5, url
