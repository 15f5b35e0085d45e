"""The moderation queue: facilitators see their groups, staff see all."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.http import AuthedRequest
from safety import hooks
from safety.forms import ResolveForm
from safety.models import HeldMessage, Report, SafetyAlert
from safety.services import (
    acknowledge_alert,
    decide_held,
    moderated_groups,
    require_moderator,
    resolve_report,
)

LIMIT = 200


@login_required
def queue(request: AuthedRequest) -> HttpResponse:
    groups = moderated_groups(request.user)
    if not request.user.is_staff and not groups.exists():
        raise PermissionDenied("The moderation queue is for facilitators.")
    slug = request.GET.get("group", "")
    chosen = None
    if slug:
        chosen = groups.filter(slug=slug[:90]).first()
        if chosen is None:
            raise Http404("No such group.")
        groups = groups.filter(pk=chosen.pk)
    scope = Q(group__in=groups)
    alerts = (
        SafetyAlert.objects.filter(scope, acknowledged_at__isnull=True)
        .select_related("group", "subject", "meeting")
        .order_by("-severity", "created_at", "pk")[:LIMIT]
    )
    held = (
        HeldMessage.objects.filter(scope, status=HeldMessage.Status.PENDING)
        .select_related("group", "author", "meeting")
        .order_by("-severity", "created_at", "pk")[:LIMIT]
    )
    # One row per reported message, most reporters and risk first.
    open_reports = list(
        Report.objects.filter(scope, status=Report.Status.OPEN)
        .select_related("group", "author")
        .order_by("created_at", "pk")[: LIMIT * 5]
    )
    by_event: dict[tuple[int, int], dict[str, object]] = {}
    for report in open_reports:
        key = (report.group_id, report.event_id)
        row = by_event.setdefault(
            key,
            {
                "report": report,
                "reasons": set(),
                "count": 0,
                "severity": 0,
                "text": hooks.report_text(report),
            },
        )
        row["reasons"].add(report.get_reason_display())  # type: ignore[attr-defined]
        row["count"] = int(row["count"]) + 1  # type: ignore[call-overload]
        row["severity"] = max(int(row["severity"]), report.severity)  # type: ignore[call-overload]
    reports = sorted(
        by_event.values(),
        key=lambda r: (-int(r["severity"]), -int(r["count"])),  # type: ignore[call-overload]
    )
    counts = groups.annotate(
        open_alerts=Count(
            "safety_alerts", filter=Q(safety_alerts__acknowledged_at__isnull=True)
        )
    ).order_by("name")[:50]
    return render(
        request,
        "safety/queue.html",
        {
            "alerts": alerts,
            "held": held,
            "reports": reports[:LIMIT],
            "groups": counts,
            "chosen": chosen,
            "resolve_form": ResolveForm(),
            "outcomes": Report.Outcome.choices,
        },
    )


def _back(request: AuthedRequest) -> HttpResponse:
    return redirect("safety:queue")


@login_required
@require_POST
def decide(request: AuthedRequest, pk: int, decision: str) -> HttpResponse:
    if decision not in ("approve", "reject"):
        raise Http404
    held = HeldMessage.objects.filter(pk=pk).first()
    if held is None:
        raise Http404("No such item.")
    require_moderator(request.user, held.group_id)
    try:
        decide_held(held_id=pk, by=request.user, approve=decision == "approve")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            "Approved: the message is shown to the group."
            if decision == "approve"
            else "Rejected: the message will not be shown.",
        )
    return _back(request)


@login_required
@require_POST
def resolve(request: AuthedRequest, pk: int) -> HttpResponse:
    report = Report.objects.filter(pk=pk).first()
    if report is None:
        raise Http404("No such item.")
    require_moderator(request.user, report.group_id)
    form = ResolveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose what happened.")
        return _back(request)
    try:
        resolve_report(
            report_id=pk, by=request.user, outcome=form.cleaned_data["outcome"]
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Report resolved; the reporters can see the outcome.")
    return _back(request)


@login_required
@require_POST
def acknowledge(request: AuthedRequest, pk: int) -> HttpResponse:
    alert = SafetyAlert.objects.filter(pk=pk).first()
    if alert is None:
        raise Http404("No such item.")
    require_moderator(request.user, alert.group_id)
    acknowledge_alert(alert_id=pk, by=request.user)
    messages.success(request, "Alert acknowledged.")
    return _back(request)
