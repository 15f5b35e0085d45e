"""Facilitators manage requests, members, roles and invitations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.http import AuthedRequest
from groups import access, services
from groups.forms import InvitationForm, RoleForm
from groups.models import JoinRequest


@login_required
def manage(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    mine = access.require_facilitating(group, request.user)
    requests = group.join_requests.filter(
        status=JoinRequest.Status.PENDING
    ).select_related("user")
    memberships = group.memberships.select_related("user").order_by("role", "joined_at")
    invitations = group.invitations.all()[:50] if mine.leads else []
    return render(
        request,
        "groups/members.html",
        {
            "group": group,
            "mine": mine,
            "requests": requests,
            "memberships": memberships,
            "invitations": invitations,
            "invitation_form": InvitationForm(),
            "new_link": request.session.pop("new_invitation_link", None),
            "role_choices": RoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
        },
    )


@login_required
@require_POST
def decide(request: AuthedRequest, slug: str, pk: int, action: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    if action not in ("approve", "decline"):
        raise Http404
    try:
        join_request = services.decide_request(
            request_id=pk, group=group, by=request.user, approve=action == "approve"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        who = join_request.user.display_name
        messages.success(
            request,
            f"{who} is now a member."
            if action == "approve"
            else f"Declined; {who} is told kindly by email.",
        )
    return redirect("groups:members", group.slug)


@login_required
@require_POST
def change_role(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    access.require_lead(group, request.user)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose member, co-facilitator or facilitator.")
        return redirect("groups:members", group.slug)
    try:
        services.change_role(
            group=group,
            by=request.user,
            membership_id=pk,
            role=form.cleaned_data["role"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Role updated.")
    return redirect("groups:members", group.slug)


@login_required
@require_POST
def remove(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    try:
        services.remove_member(group=group, by=request.user, membership_id=pk)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Removed from the group.")
    return redirect("groups:members", group.slug)


@login_required
@require_POST
def invite(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    access.require_lead(group, request.user)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return redirect("groups:members", group.slug)
    try:
        _, token = services.create_invitation(
            group=group,
            by=request.user,
            days=form.cleaned_data["days"],
            max_uses=form.cleaned_data["max_uses"],
            label=form.cleaned_data["label"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("groups:members", group.slug)
    # Shown once, on the next page; only the hash is stored.
    request.session["new_invitation_link"] = request.build_absolute_uri(
        reverse("groups:invitation", args=[token])
    )
    return redirect("groups:members", group.slug)


@login_required
@require_POST
def revoke(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    services.revoke_invitation(group=group, by=request.user, invitation_id=pk)
    messages.success(request, "The invitation link no longer works.")
    return redirect("groups:members", group.slug)
