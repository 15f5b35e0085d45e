from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from groups.models import MeetingSeries
from prompts.models import PlanAssignment, PromptRating
from prompts.services import library, plans
from tests.factories import MeetingFactory, MembershipFactory, SupportGroupFactory
from tests.prompts.factories import PlanItemFactory, SessionPlanFactory, published


@pytest.fixture
def plan(facilitator):  # type: ignore[no-untyped-def]
    plan = SessionPlanFactory(owner=facilitator)
    for minutes in (10, 20, 25):
        PlanItemFactory(plan=plan, minutes=minutes)
    return plan


def titles(plan) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.version.title for i in plan.items.order_by("position")]


def test_total_fits_and_overruns_against_the_session(plan, facilitator, group):  # type: ignore[no-untyped-def]
    assert plan.total_minutes() == 55
    timing = plans.time_plan(plan=plan, duration_minutes=60)
    assert (timing.overrun, timing.spare) == (0, 5)
    PlanItemFactory(plan=plan, minutes=15)
    timing = plans.time_plan(plan=plan, duration_minutes=60)
    assert (timing.total, timing.overrun) == (70, 10)


def test_plan_page_warns_when_the_plan_overruns(client, plan, facilitator, group):  # type: ignore[no-untyped-def]
    PlanItemFactory(plan=plan, minutes=15)
    meeting = MeetingFactory(group=group, duration_minutes=60)
    client.force_login(facilitator)
    response = client.post(
        f"/prompts/plans/{plan.pk}/attach/", {"meeting": meeting.pk}, follow=True
    )
    page = response.content.decode()
    assert "runs 10 minutes over" in page
    assert "The plan runs 70 minutes, 10 more than the session&#x27;s 60." in page


def test_reorder_moves_items_and_ignores_moves_past_the_ends(plan, facilitator):  # type: ignore[no-untyped-def]
    before = titles(plan)
    items = list(plan.items.order_by("position"))
    plans.move_item(item=items[2], by=facilitator, direction="up")
    assert titles(plan) == [before[0], before[2], before[1]]
    plans.move_item(item=items[0], by=facilitator, direction="up")
    assert titles(plan)[0] == before[0]
    plans.remove_item(item=items[0], by=facilitator)
    assert list(plan.items.values_list("position", flat=True)) == [0, 1]


def test_only_owner_or_group_facilitators_edit(
    plan, facilitator, member, site_facilitator, group
):  # type: ignore[no-untyped-def]
    item = plan.items.first()
    for someone in (member, site_facilitator):
        with pytest.raises(PermissionDenied):
            plans.set_minutes(item=item, by=someone, minutes=5)
    cofacilitator = MembershipFactory(group=group, role="cofacilitator").user
    with pytest.raises(PermissionDenied):
        plans.set_minutes(item=item, by=cofacilitator, minutes=5)
    plan.group = group
    plan.save()
    plans.set_minutes(item=item, by=cofacilitator, minutes=5)
    item.refresh_from_db()
    assert item.minutes == 5


def test_duplicate_is_a_private_editable_copy_with_the_same_versions(  # type: ignore[no-untyped-def]
    plan, site_facilitator
):
    plan.is_template = True
    plan.save()
    copy = plans.duplicate_plan(plan=plan, by=site_facilitator)
    assert copy.owner == site_facilitator and not copy.is_template
    assert copy.copied_from == plan
    assert list(copy.items.values_list("version_id", "minutes")) == list(
        plan.items.values_list("version_id", "minutes")
    )


def test_private_plan_cannot_be_copied_by_others(plan, site_facilitator):  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        plans.duplicate_plan(plan=plan, by=site_facilitator)


def test_attach_to_meeting_and_series_and_resolve_the_running_plan(  # type: ignore[no-untyped-def]
    plan, facilitator, group
):
    series = MeetingSeries.objects.create(
        group=group,
        title="Tuesdays",
        frequency="weekly",
        weekday=1,
        local_time=dt.time(19),
        timezone="Europe/Berlin",
        starts_on=timezone.localdate(),
        duration_minutes=90,
    )
    occurrence = MeetingFactory(group=group, series=series)
    plans.attach_plan(plan=plan, by=facilitator, series=series)
    plan.refresh_from_db()
    assert plan.group == group  # shared with the group's co-facilitators
    assert plans.plan_for_meeting(meeting=occurrence) == plan
    own = SessionPlanFactory(owner=facilitator, group=group)
    plans.attach_plan(plan=own, by=facilitator, meeting=occurrence)
    assert plans.plan_for_meeting(meeting=occurrence) == own
    # Attaching again replaces, never duplicates.
    plans.attach_plan(plan=plan, by=facilitator, meeting=occurrence)
    assert PlanAssignment.objects.filter(meeting=occurrence).count() == 1


def test_attach_refuses_other_groups_and_past_sessions(plan, facilitator, group):  # type: ignore[no-untyped-def]
    elsewhere = MeetingFactory(group=SupportGroupFactory())
    with pytest.raises(PermissionDenied):
        plans.attach_plan(plan=plan, by=facilitator, meeting=elsewhere)
    past = MeetingFactory(group=group, starts_at=timezone.now() - dt.timedelta(days=3))
    with pytest.raises(ValidationError, match="ended"):
        plans.attach_plan(plan=plan, by=facilitator, meeting=past)
    with pytest.raises(ValidationError):
        plans.attach_plan(plan=plan, by=facilitator)


def test_usage_counts_and_ratings_per_prompt(plan, facilitator, group, member):  # type: ignore[no-untyped-def]
    first = plan.items.order_by("position").first().version
    meetings = [MeetingFactory(group=group) for _ in range(2)]
    for meeting in meetings:
        plans.attach_plan(plan=plan, by=facilitator, meeting=meeting)
    PromptRating.objects.create(
        member=member, version=first, meeting=meetings[0], score=4
    )
    PromptRating.objects.create(
        member=facilitator, version=first, meeting=meetings[1], score=5
    )
    unused = published()
    versions = [first, unused]
    library.annotate_figures(versions)
    assert first.sessions_used == 2 and first.rating == (4.5, 2)
    assert unused.sessions_used == 0 and unused.rating is None


def test_usage_counts_sessions_running_a_series_plan_once(plan, facilitator, group):  # type: ignore[no-untyped-def]
    series = MeetingSeries.objects.create(
        group=group,
        title="Tuesdays",
        frequency="weekly",
        weekday=1,
        local_time=dt.time(19),
        timezone="Europe/Berlin",
        starts_on=timezone.localdate(),
        duration_minutes=90,
    )
    soon = timezone.now() + dt.timedelta(days=1)
    occurrences = [
        MeetingFactory(
            group=group, series=series, starts_at=soon + dt.timedelta(days=7 * n)
        )
        for n in range(4)
    ]
    plans.attach_plan(plan=plan, by=facilitator, series=series)
    # One occurrence runs a plan of its own; one is cancelled.
    own = SessionPlanFactory(owner=facilitator, group=group)
    PlanItemFactory(plan=own, version=plan.items.first().version)
    plans.attach_plan(plan=own, by=facilitator, meeting=occurrences[0])
    occurrences[1].status = "cancelled"
    occurrences[1].save(update_fields=["status"])
    first, second = (i.version for i in plan.items.order_by("position")[:2])
    library.annotate_figures([first, second])
    # first: the own-plan session plus two series sessions; second: those two.
    assert (first.sessions_used, second.sessions_used) == (3, 2)
