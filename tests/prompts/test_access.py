"""Every prompts URL, walked with every role.

Members and strangers get 404 everywhere (the library is a facilitator's
tool and its drafts and queue must not even be confirmed to exist);
anonymous visitors are sent to log in; facilitators see what is theirs or
published; curators also see drafts and the review queue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from prompts.models import PromptVersion
from prompts.services import plans as plan_service
from prompts.services import workflow
from tests.factories import MeetingFactory, UserFactory
from tests.prompts.factories import PlanItemFactory, SessionPlanFactory, published

ROLES = ["stranger", "member", "other", "facilitator", "curator"]


@dataclass
class World:
    users: dict[str, Any]
    published: PromptVersion
    draft: PromptVersion
    plan: Any
    template: Any
    item: Any
    assignment: Any


@pytest.fixture
def world(facilitator, member, stranger, curator, site_facilitator, group) -> World:  # type: ignore[no-untyped-def]
    draft = workflow.create_prompt(
        by=facilitator,
        content=workflow.PromptContent(
            title="My draft",
            text="Would you like to share? You may pass.",
            kind="discussion",
            intensity="gentle",
            suggested_minutes=10,
        ),
    )
    plan = SessionPlanFactory(owner=facilitator)
    item = PlanItemFactory(plan=plan)
    template = SessionPlanFactory(owner=UserFactory(), is_template=True)
    PlanItemFactory(plan=template)
    assignment = plan_service.attach_plan(
        plan=plan, by=facilitator, meeting=MeetingFactory(group=group)
    )
    return World(
        users={
            "stranger": stranger,
            "member": member,
            "other": site_facilitator,
            "facilitator": facilitator,
            "curator": curator,
        },
        published=published(),
        draft=draft,
        plan=plan,
        template=template,
        item=item,
        assignment=assignment,
    )


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: Callable[[World], str]
    expect: tuple[int, int, int, int, int]  # in ROLES order
    data: Callable[[World], dict[str, Any]] = lambda w: {}


OPEN = (404, 404, 200, 200, 200)
OWNER_ONLY = (404, 404, 404, 200, 404)
OWNER_POST = (404, 404, 404, 302, 404)

CASES = [
    Case("library", "get", lambda w: "/prompts/", OPEN),
    Case("library filtered", "get", lambda w: "/prompts/?kind=x&page=zz&q=a", OPEN),
    Case("write", "get", lambda w: "/prompts/new/", OPEN),
    Case("mine", "get", lambda w: "/prompts/mine/", OPEN),
    Case("queue", "get", lambda w: "/prompts/review/", (404, 404, 404, 404, 200)),
    Case(
        "published detail", "get", lambda w: f"/prompts/{w.published.prompt_id}/", OPEN
    ),
    Case(
        "draft detail",
        "get",
        lambda w: f"/prompts/{w.draft.prompt_id}/",
        (404, 404, 404, 200, 200),
    ),
    Case(
        "draft edit",
        "get",
        lambda w: f"/prompts/{w.draft.prompt_id}/edit/",
        (404, 404, 404, 200, 200),
    ),
    Case(
        "published edit by non-author",
        "get",
        lambda w: f"/prompts/{w.published.prompt_id}/edit/",
        (404, 404, 403, 403, 200),
    ),
    Case(
        "review page",
        "get",
        lambda w: f"/prompts/{w.draft.prompt_id}/review/",
        (404, 404, 404, 404, 200),
    ),
    Case(
        "review decision (self-publish refused)",
        "post",
        lambda w: f"/prompts/{w.draft.prompt_id}/review/",
        (404, 404, 404, 404, 302),
        lambda w: {"decision": "publish"},
    ),
    Case(
        "submit",
        "post",
        lambda w: f"/prompts/{w.draft.prompt_id}/submit/",
        (404, 404, 404, 302, 302),
    ),
    Case("plans", "get", lambda w: "/prompts/plans/", OPEN),
    Case("new plan", "get", lambda w: "/prompts/plans/new/", OPEN),
    Case("plan", "get", lambda w: f"/prompts/plans/{w.plan.pk}/", OWNER_ONLY),
    Case("plan edit", "get", lambda w: f"/prompts/plans/{w.plan.pk}/edit/", OWNER_ONLY),
    Case(
        "plan attach",
        "get",
        lambda w: f"/prompts/plans/{w.plan.pk}/attach/",
        OWNER_ONLY,
    ),
    Case("template", "get", lambda w: f"/prompts/plans/{w.template.pk}/", OPEN),
    Case(
        "template edit",
        "get",
        lambda w: f"/prompts/plans/{w.template.pk}/edit/",
        (404, 404, 403, 403, 403),
    ),
    Case(
        "add item",
        "post",
        lambda w: f"/prompts/plans/{w.plan.pk}/items/",
        OWNER_POST,
        lambda w: {"version": w.published.pk},
    ),
    Case(
        "item minutes",
        "post",
        lambda w: f"/prompts/plans/{w.plan.pk}/items/{w.item.pk}/minutes/",
        OWNER_POST,
        lambda w: {"minutes": 7},
    ),
    Case(
        "item move",
        "post",
        lambda w: f"/prompts/plans/{w.plan.pk}/items/{w.item.pk}/move/",
        OWNER_POST,
        lambda w: {"direction": "down"},
    ),
    Case(
        "item refresh",
        "post",
        lambda w: f"/prompts/plans/{w.plan.pk}/items/{w.item.pk}/refresh/",
        OWNER_POST,
    ),
    Case(
        "item remove",
        "post",
        lambda w: f"/prompts/plans/{w.plan.pk}/items/{w.item.pk}/remove/",
        OWNER_POST,
    ),
    Case(
        "duplicate plan",
        "post",
        lambda w: f"/prompts/plans/{w.plan.pk}/duplicate/",
        OWNER_POST,
    ),
    Case(
        "duplicate template",
        "post",
        lambda w: f"/prompts/plans/{w.template.pk}/duplicate/",
        (404, 404, 302, 302, 302),
    ),
    Case(
        "detach",
        "post",
        lambda w: f"/prompts/plans/{w.plan.pk}/assignments/{w.assignment.pk}/detach/",
        OWNER_POST,
    ),
]


def request(client: Client, case: Case, world: World) -> Any:
    send = client.get if case.method == "get" else client.post
    return send(case.url(world), case.data(world))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("role", ROLES)
def test_role_gets_the_expected_answer(
    client: Client, world: World, case: Case, role: str
) -> None:
    client.force_login(world.users[role])
    response = request(client, case, world)
    expected = case.expect[ROLES.index(role)]
    assert response.status_code == expected, (role, case.name)
    if expected == 302:
        assert "/accounts/login" not in response["Location"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_anonymous_is_sent_to_log_in(client: Client, world: World, case: Case) -> None:
    response = request(client, case, world)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_author_posting_a_publish_decision_leaves_the_draft_unpublished(
    client: Client, world: World
) -> None:
    client.force_login(world.users["facilitator"])
    client.post(f"/prompts/{world.draft.prompt_id}/review/", {"decision": "publish"})
    world.draft.refresh_from_db()
    assert world.draft.status == PromptVersion.Status.DRAFT


def test_unknown_ids_are_404_for_a_facilitator(client: Client, world: World) -> None:
    client.force_login(world.users["facilitator"])
    for url in ("/prompts/999999/", "/prompts/plans/999999/", "/prompts/999999/edit/"):
        assert client.get(url).status_code == 404
    url = f"/prompts/plans/{world.plan.pk}/items/999999/minutes/"
    assert client.post(url, {"minutes": 3}).status_code == 404
