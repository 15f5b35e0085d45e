"""Per-group safety pages: pinned resources, policy, guidelines."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.http import AuthedRequest
from groups import access
from safety.forms import AcceptForm, PinForm, PolicyForm
from safety.models import GroupSafetyPolicy
from safety.services import (
    accept_guidelines,
    audit,
    needs_acceptance,
    pin_resource,
    pinned_resources,
    unpin_resource,
)
from safety.services.guidelines import record_guidelines


@login_required
def group_support(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    mine = access.require_facilitating(group, request.user)
    policy = GroupSafetyPolicy.objects.filter(group=group).first()
    return render(
        request,
        "safety/group_support.html",
        {
            "group": group,
            "mine": mine,
            "pins": pinned_resources(group),
            "pin_form": PinForm(),
            "policy_form": PolicyForm(instance=policy),
        },
    )


@login_required
@require_POST
def pin(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    access.require_facilitating(group, request.user)
    form = PinForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a resource from the list.")
    else:
        try:
            pin_resource(
                group=group,
                by=request.user,
                resource_id=form.cleaned_data["resource"].pk,
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "Pinned for your members.")
    return redirect("safety:group_support", group.slug)


@login_required
@require_POST
def unpin(request: AuthedRequest, slug: str, pk: int) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    access.require_facilitating(group, request.user)
    unpin_resource(group=group, by=request.user, pin_id=pk)
    messages.success(request, "Unpinned.")
    return redirect("safety:group_support", group.slug)


@login_required
@require_POST
def policy(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    access.require_lead(group, request.user)
    current = GroupSafetyPolicy.objects.filter(group=group).first()
    form = PolicyForm(request.POST, instance=current)
    if not form.is_valid():
        messages.error(request, "Choose one of the options.")
    else:
        saved = form.save(commit=False)
        saved.group = group
        saved.save()
        audit(
            request.user,
            "policy.change",
            target=saved,
            group=group,
            reason=saved.concern_action,
        )
        messages.success(request, "Saved.")
    return redirect("safety:group_support", group.slug)


@login_required
def accept(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    access.require_member(group, request.user)
    target = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = group.get_absolute_url()
    if request.method == "POST":
        form = AcceptForm(request.POST)
        if form.is_valid():
            try:
                accept_guidelines(
                    user=request.user,
                    group=group,
                    version_number=form.cleaned_data["version"],
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, "Thank you. Welcome in.")
                return redirect(target)
        else:
            messages.error(request, "Please confirm the current guidelines.")
    version = record_guidelines(group)
    return render(
        request,
        "safety/guidelines_accept.html",
        {
            "group": group,
            "version": version,
            "pending": needs_acceptance(request.user, group) is not None,
            "next": target,
        },
    )
