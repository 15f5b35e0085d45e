from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import User
from groups.models import (
    RSVP,
    Meeting,
    Membership,
    Role,
    SupportGroup,
    Topic,
    Visibility,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Sequence(lambda n: f"Quiet Fern {n}")
    timezone = "Europe/London"
    password = factory.PostGenerationMethodCall("set_password", "a-long-test-password")

    @factory.post_generation
    def verified(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        from allauth.account.models import EmailAddress

        EmailAddress.objects.create(
            user=self, email=self.email, verified=True, primary=True
        )
        self.save()


class SupportGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportGroup

    name = factory.Sequence(lambda n: f"Circle {n}")
    slug = factory.Sequence(lambda n: f"circle-{n}")
    description = "A small group practising asking for help."
    topic = Topic.HYPER_INDEPENDENCE
    guidelines = "We listen. Anyone may pass. What is shared here stays here."
    capacity = 12
    visibility = Visibility.PUBLIC
    timezone = "Europe/Berlin"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    group = factory.SubFactory(SupportGroupFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER

    @factory.post_generation
    def accepted_guidelines(
        self, create: bool, extracted: object, **kwargs: object
    ) -> None:
        """Members have accepted the group's current guidelines unless a test
        says otherwise (`accepted_guidelines=False`)."""
        if not create or extracted is False:
            return
        from safety.models import GuidelinesAcceptance
        from safety.services import record_guidelines

        # Straight to the row: no audit entry, so tests that count audit
        # rows see only what they caused.
        version = record_guidelines(self.group)
        GuidelinesAcceptance.objects.get_or_create(user=self.user, version=version)


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    group = factory.SubFactory(SupportGroupFactory)
    title = "Weekly circle"
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=2))
    duration_minutes = 60
    timezone = factory.LazyAttribute(lambda o: o.group.timezone)


class RSVPFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RSVP

    meeting = factory.SubFactory(MeetingFactory)
    user = factory.SubFactory(UserFactory)
    status = RSVP.Status.GOING
