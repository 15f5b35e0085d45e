"""Load demo people, groups and sessions. Safe to run any number of times."""

from __future__ import annotations

import datetime as dt
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from groups import services
from groups.models import JoinRequest, Membership, Role, SupportGroup, Topic, Visibility

PASSWORD = "hearth-demo-2026"

PEOPLE = [
    # email, display name, time zone, country, role
    ("admin@hearth.example", "Site admin", "UTC", "", "admin"),
    ("ada@hearth.example", "Ada Lantern", "Europe/Berlin", "DE", "facilitator"),
    ("sol@hearth.example", "Sol Cedar", "America/Toronto", "CA", "facilitator"),
    ("river@hearth.example", "River Fern", "America/New_York", "US", "member"),
    ("mira@hearth.example", "Mira Tide", "Asia/Kolkata", "IN", "member"),
    ("wren@hearth.example", "Wren Harbour", "Australia/Lord_Howe", "AU", "member"),
    ("kit@hearth.example", "Kit Willow", "Europe/London", "GB", "member"),
    ("noor@hearth.example", "Noor Ember", "Europe/Dublin", "IE", "member"),
]

GUIDELINES = (
    "We speak from our own experience and listen without fixing.\n"
    "Anyone may pass, at any time, without explaining.\n"
    "What is shared here stays here; what is learned here may leave.\n"
    "We don't give medical advice. If someone may be in danger, a facilitator "
    "will point to professional help."
)


class Command(BaseCommand):
    help = "Create demo accounts, groups and sessions (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            people = {row[0]: self._person(*row) for row in PEOPLE}
            self._groups(people)
        self._prompts()
        self.stdout.write(self.style.SUCCESS("Demo data is ready. Demo logins:"))
        for email, name, zone, _country, role in PEOPLE:
            self.stdout.write(f"  {role:<12} {email:<24} {PASSWORD}   ({name}, {zone})")
        self.stdout.write("Open http://127.0.0.1:8000 and log in with any of them.")

    def _person(
        self, email: str, name: str, zone: str, country: str, role: str
    ) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email,
                PASSWORD,
                display_name=name,
                timezone=zone,
                country=country,
                is_staff=role == "admin",
                is_superuser=role == "admin",
            )
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        if role == "facilitator":
            Group.objects.get(name="Facilitators").user_set.add(user)
        return user

    def _group(self, owner: User, slug: str, **fields: Any) -> SupportGroup:
        group = SupportGroup.objects.filter(slug=slug).first()
        if group is None:
            group = services.create_group(by=owner, **fields)
            if group.slug != slug:
                group.slug = slug
                group.save(update_fields=["slug"])
        return group

    def _join(self, group: SupportGroup, user: User, role: str = Role.MEMBER) -> None:
        Membership.objects.get_or_create(
            group=group, user=user, defaults={"role": role}
        )

    def _groups(self, people: dict[str, User]) -> None:
        ada, sol = people["ada@hearth.example"], people["sol@hearth.example"]
        alone = self._group(
            ada,
            "carrying-it-all-alone",
            name="Carrying it all alone",
            description=(
                "For people who are good at coping and bad at asking. We practise "
                "small requests, notice the urge to do it all ourselves, and "
                "let others show up."
            ),
            topic=Topic.HYPER_INDEPENDENCE,
            guidelines=GUIDELINES,
            capacity=12,
            visibility=Visibility.PUBLIC,
            timezone="Europe/Berlin",
        )
        rest = self._group(
            sol,
            "rest-is-not-a-reward",
            name="Rest is not a reward",
            description=(
                "A fortnightly circle about burnout, rest and the belief that "
                "we have to earn a break."
            ),
            topic=Topic.BURNOUT,
            guidelines=GUIDELINES,
            capacity=10,
            visibility=Visibility.PUBLIC,
            timezone="America/Toronto",
        )
        harbour = self._group(
            ada,
            "quiet-harbour",
            name="Quiet Harbour",
            description="A small invite-only circle for people who've done a first group.",
            topic=Topic.TRUST,
            guidelines=GUIDELINES,
            capacity=8,
            visibility=Visibility.INVITE,
            timezone="Europe/Berlin",
        )
        self._join(alone, sol, Role.COFACILITATOR)
        for email in ("river", "mira", "wren", "kit"):
            self._join(alone, people[f"{email}@hearth.example"])
        for email in ("river", "noor"):
            self._join(rest, people[f"{email}@hearth.example"])
        self._join(harbour, people["kit@hearth.example"])
        if not JoinRequest.objects.filter(
            group=rest, user=people["mira@hearth.example"]
        ).exists():
            JoinRequest.objects.create(
                group=rest,
                user=people["mira@hearth.example"],
                message="I'd like to try a group about rest.",
            )
        today = timezone.localdate()
        if not alone.series.exists():
            services.create_series(
                group=alone,
                by=ada,
                title="Weekly circle",
                frequency="weekly",
                weekday=1,
                local_time=dt.time(19, 0),
                starts_on=today,
                duration_minutes=75,
                description="Tea welcome. Cameras optional.",
            )
        if not rest.series.exists():
            services.create_series(
                group=rest,
                by=sol,
                title="Rest circle",
                frequency="fortnightly",
                weekday=3,
                local_time=dt.time(18, 30),
                starts_on=today,
                duration_minutes=60,
            )
        if not harbour.series.exists():
            services.create_series(
                group=harbour,
                by=ada,
                title="Harbour evening",
                frequency="monthly",
                weekday=6,
                week_of_month=1,
                local_time=dt.time(17, 0),
                starts_on=today,
                duration_minutes=90,
            )
        # Every run leaves a drop-in starting within the hour, so reminders
        # and the live room can be tried straight away.
        upcoming = alone.meetings.filter(
            series__isnull=True,
            status="scheduled",
            starts_at__gt=timezone.now(),
            starts_at__lte=timezone.now() + dt.timedelta(hours=2),
        )
        if not upcoming.exists():
            soon = timezone.localtime(
                timezone.now() + dt.timedelta(minutes=50), alone.zone
            )
            services.schedule_meeting(
                group=alone,
                by=ada,
                title="Drop-in: asking for small things",
                day=soon.date(),
                at=soon.time().replace(second=0, microsecond=0),
                duration_minutes=45,
            )

    def _prompts(self) -> None:
        from prompts.starter import load_starter_library
        from safety.seed import load_care_resources

        load_starter_library()
        load_care_resources()
