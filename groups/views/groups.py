"""Directory, group pages, joining and leaving."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.http import AuthedRequest, HearthRequest
from groups import access, services
from groups.forms import (
    DirectoryFilterForm,
    GroupForm,
    JoinRequestForm,
    MembershipNameForm,
)
from groups.models import JoinRequest, Meeting, Membership, Role, SupportGroup
from groups.services.membership import find_invitation

from .common import form_errors_from
from .fragments import render_once


def _next_meeting_start() -> Subquery:
    return Subquery(
        Meeting.objects.filter(
            group=OuterRef("pk"),
            status=Meeting.Status.SCHEDULED,
            starts_at__gt=timezone.now(),
        )
        .order_by("starts_at")
        .values("starts_at")[:1]
    )


def _member_count() -> Coalesce:
    members = (
        Membership.objects.filter(group=OuterRef("pk"), role=Role.MEMBER)
        .order_by()
        .values("group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(members), 0)


def _directory_card(group: SupportGroup) -> str:
    """One directory entry (templates/groups/_directory_card.html), rendered
    once per content: the key lists every value the template reads."""
    key = (
        group.pk,
        group.slug,
        group.name,
        group.topic,
        str(group.region),  # the country code
        group.description,
        group.members,  # type: ignore[attr-defined]
        group.capacity,
        group.next_start,  # type: ignore[attr-defined]
    )
    return render_once("groups/_directory_card.html", key, {"group": group})


def directory(request: HearthRequest) -> HttpResponse:
    """Public groups, searchable and filterable; a fixed number of queries."""
    form = DirectoryFilterForm(request.GET or None)
    groups = SupportGroup.objects.public()
    if form.is_valid():
        if query := form.cleaned_data["q"].strip():
            groups = groups.filter(
                Q(name__icontains=query) | Q(description__icontains=query)
            )
        if topic := form.cleaned_data["topic"]:
            groups = groups.filter(topic=topic)
    # Subqueries rather than a join and GROUP BY: the paginator's COUNT drops
    # them, and the database runs them only for rows up to the page's end.
    groups = groups.annotate(
        members=_member_count(), next_start=_next_meeting_start()
    ).order_by("name", "pk")
    page = Paginator(groups, 20).get_page(request.GET.get("page"))
    for group in page.object_list:
        group.card = _directory_card(group)  # type: ignore[attr-defined]
    template = (
        "groups/_directory_results.html" if request.htmx else "groups/directory.html"
    )
    return render(request, template, {"form": form, "page": page})


@login_required
def create(request: AuthedRequest) -> HttpResponse:
    if not request.user.has_perm("groups.create_group"):
        raise PermissionDenied("Only facilitators can create groups.")
    form = GroupForm(request.POST or None, initial={"timezone": request.user.timezone})
    if request.method == "POST" and form.is_valid():
        try:
            group = services.create_group(by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            messages.success(
                request, "Your group is ready. Schedule its first session."
            )
            return redirect(group)
    return render(request, "groups/group_form.html", {"form": form, "creating": True})


def detail(request: HearthRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    membership = access.membership(group, request.user)
    pending = None
    if request.user.is_authenticated and membership is None:
        pending = group.join_requests.filter(
            user=request.user, status=JoinRequest.Status.PENDING
        ).first()
    upcoming = list(group.meetings.upcoming().select_related("group")[:8])
    people = []
    if membership is not None:
        people = list(
            group.memberships.select_related("user").order_by("role", "joined_at")
        )
    return render(
        request,
        "groups/detail.html",
        {
            "group": group,
            "membership": membership,
            "pending": pending,
            "upcoming": upcoming,
            "people": people,
            "member_count": group.member_count(),
            "join_form": JoinRequestForm(),
        },
    )


@login_required
def edit(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    access.require_lead(group, request.user)
    form = GroupForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Group settings saved.")
        return redirect(group)
    return render(request, "groups/group_form.html", {"form": form, "group": group})


@login_required
def join(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    form = JoinRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_to_join(
                group=group, user=request.user, message=form.cleaned_data["message"]
            )
        except ValidationError as error:
            messages.info(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                "Your request is sent. A facilitator will reply by email; "
                "there's no rush and nothing more you need to do.",
            )
        return redirect(group)
    return render(request, "groups/join.html", {"group": group, "form": form})


@login_required
@require_POST
def withdraw(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    try:
        services.withdraw_request(group=group, user=request.user)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
    else:
        messages.success(request, "Your request is withdrawn.")
    return redirect(group)


@login_required
def leave(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    access.require_member(group, request.user)
    if request.method == "POST":
        try:
            services.leave_group(group=group, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(group)
        messages.success(
            request, f"You've left {group.name}. You're welcome back any time."
        )
        return redirect("groups:mine")
    return render(request, "groups/leave.html", {"group": group})


@login_required
def my_name(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    membership = access.require_member(group, request.user)
    form = MembershipNameForm(request.POST or None, instance=membership)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your name in this group is saved.")
        return redirect(group)
    return render(request, "groups/my_name.html", {"group": group, "form": form})


def invitation(request: HearthRequest, token: str) -> HttpResponse:
    found = find_invitation(token)
    if found is None:
        return render(request, "groups/invitation_invalid.html", status=404)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"/accounts/login/?next={request.path}")
        try:
            services.accept_invitation(token=token, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return render(
                request, "groups/invitation.html", {"group": found.group}, status=400
            )
        messages.success(request, f"Welcome to {found.group.name}.")
        return redirect(found.group)
    return render(request, "groups/invitation.html", {"group": found.group})


@login_required
def mine(request: AuthedRequest) -> HttpResponse:
    groups = (
        SupportGroup.objects.filter(memberships__user=request.user)
        .annotate(
            my_role=Subquery(
                Membership.objects.filter(
                    group=OuterRef("pk"), user=request.user
                ).values("role")[:1]
            ),
            next_start=_next_meeting_start(),
            open_requests=Count(
                "join_requests",
                filter=Q(join_requests__status=JoinRequest.Status.PENDING),
                distinct=True,
            ),
        )
        .order_by("name")
    )
    pending = JoinRequest.objects.filter(
        user=request.user, status=JoinRequest.Status.PENDING
    ).select_related("group")
    return render(request, "groups/mine.html", {"groups": groups, "pending": pending})
