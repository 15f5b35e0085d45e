"""The library: browsing, reading, writing and reviewing prompts."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from prompts import access, cards
from prompts.forms import LibraryFilterForm, PromptForm, ReviewForm
from prompts.models import Prompt, PromptVersion, SessionPlan
from prompts.services import library, workflow
from prompts.views.common import (
    curator_required,
    facilitator_required,
    paginate,
    report,
)


def _target_plan(request: HttpRequest) -> SessionPlan | None:
    """The plan a facilitator is adding prompts to (`?plan=`), if theirs."""
    raw = request.GET.get("plan", "")
    if not raw.isdigit():
        return None
    plan = SessionPlan.objects.filter(pk=int(raw)).first()
    return plan if plan and access.can_edit_plan(request.user, plan) else None


@facilitator_required
def library_list(request: HttpRequest) -> HttpResponse:
    form = LibraryFilterForm(request.GET or None)
    page = paginate(request, library.search_library(filters=form.to_filter()))
    matching = cast("QuerySet[PromptVersion]", page.object_list)
    versions = page.object_list = library.listing_rows(matching)
    library.attach_themes(versions, form.themes)
    library.annotate_figures(versions)
    for version in versions:
        version.card = cards.card(version)  # type: ignore[attr-defined]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "prompts/library.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "target_plan": _target_plan(request),
            "is_curator": access.is_curator(request.user),
        },
    )


def _visible_versions(request: HttpRequest, prompt: Prompt) -> list[PromptVersion]:
    versions = prompt.versions.select_related("author", "reviewed_by").prefetch_related(
        "themes", "comments__author"
    )
    return [v for v in versions if access.can_view_version(request.user, v)]


@facilitator_required
def prompt_detail(request: HttpRequest, pk: int) -> HttpResponse:
    prompt = get_object_or_404(Prompt.objects.select_related("author"), pk=pk)
    versions = _visible_versions(request, prompt)
    if not versions:
        raise Http404
    latest = versions[0]
    published = next((v for v in versions if v.is_published), None)
    if published is not None:
        library.annotate_figures([published])
    user = request.user
    may_edit = access.can_edit_prompt(user, latest)
    plans = SessionPlan.objects.filter(access.plans_visible_to(user)).select_related(
        "group"
    )
    return render(
        request,
        "prompts/prompt_detail.html",
        {
            "prompt": prompt,
            "latest": latest,
            "published": published,
            "history": versions if may_edit or access.is_curator(user) else [],
            "may_edit": may_edit and latest.status not in ("submitted", "retired"),
            "may_submit": may_edit and latest.is_editable,
            "may_review": access.is_curator(user) and latest.status != "retired",
            "my_plans": [p for p in plans if access.can_edit_plan(user, p)],
        },
    )


@facilitator_required
def prompt_create(request: HttpRequest) -> HttpResponse:
    form = PromptForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        version = workflow.create_prompt(by=request.user, content=form.to_content())
        messages.success(request, "Draft saved. Submit it for review when it's ready.")
        return redirect(version.prompt)
    return render(request, "prompts/prompt_form.html", {"form": form, "prompt": None})


@facilitator_required
def prompt_edit(request: HttpRequest, pk: int) -> HttpResponse:
    prompt = get_object_or_404(Prompt, pk=pk)
    latest = workflow.latest_version(prompt)
    if latest is None or not access.can_view_version(request.user, latest):
        raise Http404
    if not access.can_edit_prompt(request.user, latest):
        raise PermissionDenied
    if request.method == "POST":
        form = PromptForm(request.POST)
        if form.is_valid():
            try:
                version = workflow.edit_prompt(
                    prompt=prompt, by=request.user, content=form.to_content()
                )
            except ValidationError as e:
                report(request, e)
                return redirect(prompt)
            note = "A new draft version was made; the published one stays in use."
            messages.success(
                request, note if version.pk != latest.pk else "Draft saved."
            )
            return redirect(prompt)
    else:
        form = PromptForm(initial=PromptForm.initial_from(latest))
    return render(
        request,
        "prompts/prompt_form.html",
        {"form": form, "prompt": prompt, "latest": latest},
    )


@require_POST
@facilitator_required
def prompt_submit(request: HttpRequest, pk: int) -> HttpResponse:
    prompt = get_object_or_404(Prompt, pk=pk)
    latest = workflow.latest_version(prompt)
    if latest is None or not access.can_view_version(request.user, latest):
        raise Http404
    try:
        workflow.submit_version(version=latest, by=request.user)
        messages.success(request, "Sent to the curators. Thank you.")
    except ValidationError as e:
        report(request, e)
    return redirect(prompt)


@curator_required
def prompt_review(request: HttpRequest, pk: int) -> HttpResponse:
    prompt = get_object_or_404(Prompt, pk=pk)
    latest = workflow.latest_version(prompt)
    if latest is None:
        raise Http404
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
        try:
            if decision == "publish":
                workflow.publish_version(
                    version=latest, by=request.user, comment=comment
                )
                messages.success(request, "Published.")
            elif decision == "changes":
                workflow.request_changes(
                    version=latest, by=request.user, comment=comment
                )
                messages.success(request, "Sent back to the author with your note.")
            else:
                workflow.retire_prompt(prompt=prompt, by=request.user, comment=comment)
                messages.success(request, "Retired. Existing plans keep their copy.")
        except ValidationError as e:
            report(request, e)
        return redirect(prompt)
    return render(
        request,
        "prompts/review.html",
        {"form": form, "prompt": prompt, "version": latest},
    )


@curator_required
def review_queue(request: HttpRequest) -> HttpResponse:
    waiting = PromptVersion.objects.in_review().for_listing().order_by("submitted_at")
    return render(request, "prompts/queue.html", {"page": paginate(request, waiting)})


@facilitator_required
def my_prompts(request: HttpRequest) -> HttpResponse:
    prompts = Prompt.objects.filter(author_id=request.user.pk).order_by("-created_at")
    page = paginate(request, prompts.prefetch_related("versions"))
    rows = [(p, p.versions.all()[0]) for p in page.object_list]
    return render(request, "prompts/mine.html", {"page": page, "rows": rows})
