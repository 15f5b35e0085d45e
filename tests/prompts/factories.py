from __future__ import annotations

from typing import Any

import factory
from django.utils import timezone

from prompts.models import (
    Kind,
    PlanItem,
    Prompt,
    PromptVersion,
    SessionPlan,
    Theme,
)
from tests.factories import UserFactory


class PromptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prompt

    slug = factory.Sequence(lambda n: f"prompt-{n}")
    author = factory.SubFactory(UserFactory)


class PromptVersionFactory(factory.django.DjangoModelFactory):
    """A version; `status="published"` also stamps `published_at`."""

    class Meta:
        model = PromptVersion
        skip_postgeneration_save = True

    prompt = factory.SubFactory(PromptFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"A gentle question {n}")
    text = "What would it be like to ask for *a little* help? You may pass."
    kind = Kind.DISCUSSION
    suggested_minutes = 10
    author = factory.LazyAttribute(lambda o: o.prompt.author)
    status = PromptVersion.Status.DRAFT
    published_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.status == PromptVersion.Status.PUBLISHED else None
    )

    @factory.post_generation
    def themes(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.themes.set(extracted or Theme.objects.filter(slug="asking-for-help"))


def published(**kwargs: Any) -> PromptVersion:
    return PromptVersionFactory(status=PromptVersion.Status.PUBLISHED, **kwargs)


class SessionPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SessionPlan

    title = factory.Sequence(lambda n: f"Plan {n}")
    owner = factory.SubFactory(UserFactory)


class PlanItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanItem

    plan = factory.SubFactory(SessionPlanFactory)
    version = factory.LazyFunction(published)
    minutes = 10
    position = factory.Sequence(lambda n: n)
