"""Session plans: list, build, reorder, copy and attach."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from prompts import access
from prompts.forms import AddItemForm, AttachForm, MinutesForm, MoveForm, PlanForm
from prompts.models import PlanAssignment, PlanItem, PromptVersion, SessionPlan
from prompts.services import plans as service
from prompts.views.common import facilitator_required, paginate, report


def _plan(request: HttpRequest, pk: int, *, edit: bool = False) -> SessionPlan:
    """The plan, or 404 if this person may not see it (403 if see, not edit)."""
    plan = get_object_or_404(
        SessionPlan.objects.select_related("owner", "group"), pk=pk
    )
    if not access.can_view_plan(request.user, plan):
        raise Http404
    if edit and not access.can_edit_plan(request.user, plan):
        raise PermissionDenied
    return plan


def _item(request: HttpRequest, pk: int, item_pk: int) -> PlanItem:
    plan = _plan(request, pk, edit=True)
    item = get_object_or_404(plan.items.select_related("version"), pk=item_pk)
    item.plan = plan
    return item


@facilitator_required
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = (
        SessionPlan.objects.filter(access.plans_visible_to(request.user))
        .select_related("owner", "group")
        .annotate(total=Sum("items__minutes"), steps=Count("items"))
        .order_by("-is_template", "title", "pk")
    )
    return render(request, "prompts/plan_list.html", {"page": paginate(request, plans)})


@facilitator_required
def plan_create(request: HttpRequest) -> HttpResponse:
    groups = access.facilitated_group_ids(request.user)
    form = PlanForm(
        request.POST if request.method == "POST" else None, group_ids=groups
    )
    if request.method == "POST" and form.is_valid():
        plan = service.create_plan(by=request.user, **form.cleaned_data)
        messages.success(request, "Plan created. Add prompts from the library.")
        return redirect(plan)
    return render(request, "prompts/plan_form.html", {"form": form, "plan": None})


@facilitator_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    items = list(plan.items.select_related("version").order_by("position", "pk"))
    newest = dict(
        PromptVersion.objects.published()
        .filter(prompt_id__in=[i.version.prompt_id for i in items])
        .values_list("prompt_id", "pk")
    )
    for item in items:
        item.newer_pk = newest.get(item.version.prompt_id)  # type: ignore[attr-defined]
        item.outdated = item.newer_pk not in (None, item.version_id)  # type: ignore[attr-defined]
    total = sum(i.minutes for i in items)
    assignments = [
        (a, service.Timing(total=total, available=a.duration_minutes))
        for a in plan.assignments.select_related("meeting__group", "series__group")
    ]
    return render(
        request,
        "prompts/plan_detail.html",
        {
            "plan": plan,
            "items": items,
            "total": total,
            "assignments": assignments,
            "may_edit": access.can_edit_plan(request.user, plan),
        },
    )


@facilitator_required
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, edit=True)
    groups = access.facilitated_group_ids(request.user) | (
        {plan.group_id} if plan.group_id else set()
    )
    form = PlanForm(
        request.POST if request.method == "POST" else None,
        instance=plan,
        group_ids=groups,
    )
    if request.method == "POST" and form.is_valid():
        try:
            # Re-read: a failed ModelForm has already set attributes on `plan`.
            fresh = SessionPlan.objects.get(pk=plan.pk)
            service.update_plan(plan=fresh, by=request.user, **form.cleaned_data)
            messages.success(request, "Plan saved.")
            return redirect(fresh)
        except ValidationError as e:
            report(request, e)
    return render(request, "prompts/plan_form.html", {"form": form, "plan": plan})


@require_POST
@facilitator_required
def plan_add_item(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, edit=True)
    form = AddItemForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Only published prompts can be added to a plan.")
    else:
        service.add_item(plan=plan, by=request.user, **form.cleaned_data)
        messages.success(request, f"Added “{form.cleaned_data['version'].title}”.")
    return redirect(plan)


@require_POST
@facilitator_required
def plan_item_minutes(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item(request, pk, item_pk)
    form = MinutesForm(request.POST)
    if form.is_valid():
        service.set_minutes(item=item, by=request.user, **form.cleaned_data)
    else:
        messages.error(request, "Give a whole number of minutes from 1 to 240.")
    return redirect(item.plan)


@require_POST
@facilitator_required
def plan_item_move(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item(request, pk, item_pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        service.move_item(item=item, by=request.user, **form.cleaned_data)
    return redirect(item.plan)


@require_POST
@facilitator_required
def plan_item_remove(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item(request, pk, item_pk)
    service.remove_item(item=item, by=request.user)
    return redirect(item.plan)


@require_POST
@facilitator_required
def plan_item_refresh(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    item = _item(request, pk, item_pk)
    try:
        service.use_newest_version(item=item, by=request.user)
        messages.success(request, "Now using the newest published version.")
    except ValidationError as e:
        report(request, e)
    return redirect(item.plan)


@require_POST
@facilitator_required
def plan_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    copy = service.duplicate_plan(plan=_plan(request, pk), by=request.user)
    messages.success(request, "This is your copy: edit it freely.")
    return redirect(copy)


@facilitator_required
def plan_attach(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan(request, pk, edit=True)
    groups = access.facilitated_group_ids(request.user)
    form = AttachForm(
        request.POST if request.method == "POST" else None, group_ids=groups
    )
    if request.method == "POST" and form.is_valid():
        try:
            assignment = service.attach_plan(
                plan=plan, by=request.user, **form.cleaned_data
            )
        except ValidationError as e:
            report(request, e)
        else:
            timing = service.time_plan(
                plan=plan, duration_minutes=assignment.duration_minutes
            )
            messages.success(request, "Plan attached.")
            if timing.overrun:
                messages.warning(
                    request,
                    f"The plan runs {timing.total} minutes, {timing.overrun} more "
                    f"than the session's {timing.available}.",
                )
            return redirect(plan)
    return render(request, "prompts/plan_attach.html", {"form": form, "plan": plan})


@require_POST
@facilitator_required
def plan_detach(request: HttpRequest, pk: int, assignment_pk: int) -> HttpResponse:
    plan = _plan(request, pk)
    assignment = get_object_or_404(
        PlanAssignment.objects.select_related("meeting", "series"),
        pk=assignment_pk,
        plan=plan,
    )
    service.detach_plan(assignment=assignment, by=request.user)
    messages.success(request, "Plan detached.")
    return redirect(plan)
