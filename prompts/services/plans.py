"""Session plans: building, ordering, copying and attaching agendas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from groups.models import Meeting, MeetingSeries, SupportGroup
from prompts import access
from prompts.models import PlanAssignment, PlanItem, PromptVersion, SessionPlan


@dataclass(frozen=True)
class Timing:
    """A plan's total against the length of the session it is for."""

    total: int
    available: int

    @property
    def overrun(self) -> int:
        return max(0, self.total - self.available)

    @property
    def spare(self) -> int:
        return max(0, self.available - self.total)


def time_plan(*, plan: SessionPlan, duration_minutes: int) -> Timing:
    return Timing(total=plan.total_minutes(), available=duration_minutes)


def _require_edit(plan: SessionPlan, by: Any) -> None:
    if not access.can_edit_plan(by, plan):
        raise PermissionDenied


def _check_group(by: Any, group: SupportGroup | None) -> None:
    if group is not None and not access.facilitates_group(by, group.pk):
        raise ValidationError("You can only share a plan with a group you facilitate.")


def create_plan(
    *,
    by: Any,
    title: str,
    description: str = "",
    group: SupportGroup | None = None,
    is_template: bool = False,
) -> SessionPlan:
    if not access.is_facilitator(by):
        raise PermissionDenied
    _check_group(by, group)
    return SessionPlan.objects.create(
        title=title,
        description=description,
        owner=by,
        group=group,
        is_template=is_template,
    )


def update_plan(
    *,
    plan: SessionPlan,
    by: Any,
    title: str,
    description: str,
    group: SupportGroup | None,
    is_template: bool,
) -> SessionPlan:
    _require_edit(plan, by)
    if group != plan.group:
        _check_group(by, group)
        if plan.assignments.exists():
            raise ValidationError("Detach the plan from its sessions first.")
    plan.title, plan.description = title, description
    plan.group, plan.is_template = group, is_template
    plan.save()
    return plan


@transaction.atomic
def add_item(
    *, plan: SessionPlan, by: Any, version: PromptVersion, minutes: int | None = None
) -> PlanItem:
    """Append a prompt to the plan, pinned to the version published now."""
    _require_edit(plan, by)
    if version.status != PromptVersion.Status.PUBLISHED:
        raise ValidationError("Only published prompts can be used in a plan.")
    last = plan.items.aggregate(last=Max("position"))["last"]
    return PlanItem.objects.create(
        plan=plan,
        version=version,
        minutes=minutes or version.suggested_minutes,
        position=0 if last is None else last + 1,
    )


def set_minutes(*, item: PlanItem, by: Any, minutes: int) -> PlanItem:
    _require_edit(item.plan, by)
    if not 1 <= minutes <= 240:
        raise ValidationError("Give between 1 and 240 minutes.")
    item.minutes = minutes
    item.save(update_fields=["minutes"])
    return item


@transaction.atomic
def move_item(*, item: PlanItem, by: Any, direction: Literal["up", "down"]) -> None:
    """Swap an item with its neighbour; positions are renumbered 0..n-1."""
    _require_edit(item.plan, by)
    items = list(item.plan.items.select_for_update().order_by("position", "pk"))
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    _renumber(items)


def _renumber(items: list[PlanItem]) -> None:
    for position, each in enumerate(items):
        each.position = position
    PlanItem.objects.bulk_update(items, ["position"])


@transaction.atomic
def remove_item(*, item: PlanItem, by: Any) -> None:
    plan = item.plan
    _require_edit(plan, by)
    item.delete()
    _renumber(list(plan.items.order_by("position", "pk")))


@transaction.atomic
def use_newest_version(*, item: PlanItem, by: Any) -> PlanItem:
    """Re-pin an item to its prompt's current published version."""
    _require_edit(item.plan, by)
    newest = PromptVersion.objects.published().filter(prompt_id=item.version.prompt_id)
    version = newest.first()
    if version is None:
        raise ValidationError("This prompt is no longer published.")
    item.version = version
    item.save(update_fields=["version"])
    return item


@transaction.atomic
def duplicate_plan(*, plan: SessionPlan, by: Any) -> SessionPlan:
    """A private, editable copy owned by `by` (items keep their versions)."""
    if not access.can_view_plan(by, plan):
        raise PermissionDenied
    copy = SessionPlan.objects.create(
        title=f"{plan.title} (copy)"[:120],
        description=plan.description,
        owner=by,
        group=plan.group if access.facilitates_group(by, plan.group_id) else None,
        copied_from=plan,
    )
    PlanItem.objects.bulk_create(
        PlanItem(plan=copy, version_id=i.version_id, minutes=i.minutes, position=n)
        for n, i in enumerate(plan.items.order_by("position", "pk"))
    )
    return copy


@transaction.atomic
def attach_plan(
    *,
    plan: SessionPlan,
    by: Any,
    meeting: Meeting | None = None,
    series: MeetingSeries | None = None,
) -> PlanAssignment:
    """Attach a plan to one session or a whole series, replacing any plan it
    had. A plan without a group becomes the group's, so its co-facilitators
    can see what will run."""
    if (meeting is None) == (series is None):
        raise ValidationError("Choose one session or one series.")
    _require_edit(plan, by)
    target = meeting or series
    group_id: int = target.group_id  # type: ignore[union-attr]
    if not access.facilitates_group(by, group_id):
        raise PermissionDenied
    if plan.group_id not in (None, group_id):
        raise ValidationError(
            "This plan belongs to another group. Make a copy and attach that."
        )
    if meeting is not None and meeting.is_past:
        raise ValidationError("That session has already ended.")
    if plan.group_id is None:
        plan.group_id = group_id
        plan.save(update_fields=["group", "updated_at"])
    key = {"meeting": meeting} if meeting is not None else {"series": series}
    PlanAssignment.objects.filter(**key).delete()
    return PlanAssignment.objects.create(plan=plan, assigned_by=by, **key)


def detach_plan(*, assignment: PlanAssignment, by: Any) -> None:
    group_id: int = assignment.target.group_id  # type: ignore[attr-defined]
    if not (
        access.can_edit_plan(by, assignment.plan)
        or access.facilitates_group(by, group_id)
    ):
        raise PermissionDenied
    assignment.delete()


def plan_for_meeting(*, meeting: Meeting) -> SessionPlan | None:
    """The plan that will run: the session's own, else its series'."""
    assignment = (
        PlanAssignment.objects.filter(meeting=meeting).select_related("plan").first()
    )
    if assignment is None and meeting.series_id is not None:
        assignment = (
            PlanAssignment.objects.filter(series_id=meeting.series_id)
            .select_related("plan")
            .first()
        )
    return assignment.plan if assignment else None
