from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from prompts.models import PromptVersion, ReviewComment, Theme
from prompts.services import plans, workflow
from tests.factories import MeetingFactory
from tests.prompts.factories import PromptVersionFactory, SessionPlanFactory

Status = PromptVersion.Status


def content(title: str = "A small ask", **extra: object) -> workflow.PromptContent:
    values: dict = {
        "title": title,
        "text": "What is one small thing you could ask for? You may pass.",
        "kind": "discussion",
        "intensity": "gentle",
        "suggested_minutes": 12,
        "themes": list(Theme.objects.filter(slug="asking-for-help")),
    }
    values.update(extra)
    return workflow.PromptContent(**values)


@pytest.fixture
def draft(facilitator) -> PromptVersion:  # type: ignore[no-untyped-def]
    return workflow.create_prompt(by=facilitator, content=content())


def test_facilitator_drafts_submits_and_a_curator_publishes(
    draft, facilitator, curator
):  # type: ignore[no-untyped-def]
    assert draft.status == Status.DRAFT
    assert draft.prompt.author == facilitator and draft.author == facilitator
    workflow.submit_version(version=draft, by=facilitator)
    workflow.publish_version(version=draft, by=curator, comment="Lovely.")
    draft.refresh_from_db()
    assert draft.status == Status.PUBLISHED
    assert draft.reviewed_by == curator and draft.published_at is not None
    actions = list(draft.comments.values_list("action", flat=True))
    assert actions == [ReviewComment.Action.SUBMITTED, ReviewComment.Action.PUBLISHED]


def test_facilitator_cannot_publish_their_own_prompt(draft, facilitator):  # type: ignore[no-untyped-def]
    workflow.submit_version(version=draft, by=facilitator)
    with pytest.raises(PermissionDenied):
        workflow.publish_version(version=draft, by=facilitator)
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED


def test_a_curator_may_publish_their_own_prompt(curator):  # type: ignore[no-untyped-def]
    version = workflow.create_prompt(by=curator, content=content())
    workflow.publish_version(version=version, by=curator)
    assert version.status == Status.PUBLISHED


def test_request_changes_needs_a_comment_and_goes_back_to_the_author(  # type: ignore[no-untyped-def]
    draft, facilitator, curator
):
    workflow.submit_version(version=draft, by=facilitator)
    with pytest.raises(ValidationError):
        workflow.request_changes(version=draft, by=curator, comment="  ")
    workflow.request_changes(version=draft, by=curator, comment="Add a way to pass.")
    assert draft.status == Status.CHANGES_REQUESTED
    edited = workflow.edit_prompt(
        prompt=draft.prompt, by=facilitator, content=content("A small ask, revised")
    )
    assert edited.pk == draft.pk  # never published: edited in place
    assert edited.status == Status.DRAFT
    assert draft.comments.filter(body="Add a way to pass.").exists()


def test_members_and_other_facilitators_cannot_touch_a_draft(  # type: ignore[no-untyped-def]
    draft, member, site_facilitator
):
    for someone in (member, site_facilitator):
        with pytest.raises(PermissionDenied):
            workflow.edit_prompt(prompt=draft.prompt, by=someone, content=content())
        with pytest.raises(PermissionDenied):
            workflow.submit_version(version=draft, by=someone)


def test_editing_a_published_prompt_makes_a_new_version(draft, facilitator, curator):  # type: ignore[no-untyped-def]
    workflow.publish_version(version=draft, by=curator)
    new = workflow.edit_prompt(
        prompt=draft.prompt, by=facilitator, content=content("Reworded")
    )
    assert new.pk != draft.pk and new.number == 2 and new.status == Status.DRAFT
    draft.refresh_from_db()
    assert draft.title == "A small ask" and draft.status == Status.PUBLISHED
    workflow.submit_version(version=new, by=facilitator)
    workflow.publish_version(version=new, by=curator)
    draft.refresh_from_db()
    assert draft.status == Status.SUPERSEDED
    assert PromptVersion.objects.published().filter(prompt=draft.prompt).get() == new


def test_a_published_version_refuses_content_changes(draft, curator):  # type: ignore[no-untyped-def]
    workflow.publish_version(version=draft, by=curator)
    draft.text = "Changed behind everyone's back"
    with pytest.raises(ValueError, match="immutable"):
        draft.save()


def test_plan_keeps_the_version_it_pinned_after_an_edit(  # type: ignore[no-untyped-def]
    draft, facilitator, curator
):
    workflow.publish_version(version=draft, by=curator)
    plan = SessionPlanFactory(owner=facilitator)
    item = plans.add_item(plan=plan, by=facilitator, version=draft)
    new = workflow.edit_prompt(
        prompt=draft.prompt, by=facilitator, content=content("v2")
    )
    workflow.publish_version(version=new, by=curator)
    item.refresh_from_db()
    assert item.version == draft
    assert item.version.title == "A small ask"
    plans.use_newest_version(item=item, by=facilitator)
    assert item.version == new


def test_only_published_prompts_can_join_a_plan(draft, facilitator):  # type: ignore[no-untyped-def]
    plan = SessionPlanFactory(owner=facilitator)
    with pytest.raises(ValidationError, match="published"):
        plans.add_item(plan=plan, by=facilitator, version=draft)


def test_retiring_keeps_plans_but_removes_from_library(draft, facilitator, curator):  # type: ignore[no-untyped-def]
    workflow.publish_version(version=draft, by=curator)
    plan = SessionPlanFactory(owner=facilitator)
    plans.add_item(plan=plan, by=facilitator, version=draft)
    assert workflow.retire_prompt(prompt=draft.prompt, by=curator) == 1
    assert not PromptVersion.objects.published().exists()
    assert plan.items.get().version == draft
    with pytest.raises(ValidationError):
        workflow.edit_prompt(prompt=draft.prompt, by=facilitator, content=content())
    with pytest.raises(PermissionDenied):
        workflow.retire_prompt(prompt=draft.prompt, by=facilitator)


def test_superseded_or_retired_versions_cannot_be_published_again(curator):  # type: ignore[no-untyped-def]
    old = PromptVersionFactory(status=Status.SUPERSEDED)
    with pytest.raises(ValidationError):
        workflow.publish_version(version=old, by=curator)


def test_ratings_are_one_to_five(draft, curator, member):  # type: ignore[no-untyped-def]
    from django.db import IntegrityError, transaction

    from prompts.models import PromptRating

    meeting = MeetingFactory()
    PromptRating.objects.create(member=member, version=draft, meeting=meeting, score=5)
    with pytest.raises(IntegrityError), transaction.atomic():
        PromptRating.objects.create(
            member=curator, version=draft, meeting=meeting, score=6
        )
