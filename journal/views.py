"""The journal: a member's own reflections, and what facilitators were
given to read. Another person's reflection answers 404, like no reflection
at all."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.http import AuthedRequest

from . import chart, services
from .forms import ReflectionForm, SharingForm
from .models import Reflection, Sharing

SUPPORT_TIERS_QUIET = {"", "none", "ok", "clear"}


@login_required
def index(request: AuthedRequest) -> HttpResponse:
    reflections = (
        Reflection.objects.of(request.user)
        .select_related("meeting__group")
        .order_by("-meeting__starts_at", "-pk")
    )
    points = services.mood_history(request.user)
    return render(
        request,
        "journal/index.html",
        {
            "reflections": reflections,
            "points": points,
            "chart": chart.build(points) if points else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def reflect(request: AuthedRequest, meeting_id: int) -> HttpResponse:
    meeting = services.meeting_for_reflection(user=request.user, meeting_id=meeting_id)
    if not services.session_over(meeting):
        return render(request, "journal/not_yet.html", {"meeting": meeting})
    existing = Reflection.objects.of(request.user).filter(meeting=meeting).first()
    prompts = services.reflection_prompts(meeting)
    to_rate = services.prompts_to_rate(meeting)
    initial: dict[str, object] = {"sharing": Sharing.PRIVATE}
    if existing:
        initial["sharing"] = existing.sharing
        for index, answer in enumerate(existing.answers[: len(prompts)]):
            initial[f"answer_{index}"] = answer.get("text", "")
    for version_id, score in services.ratings_of(
        user=request.user, meeting=meeting
    ).items():
        initial[f"rating_{version_id}"] = str(score)
    form = ReflectionForm(
        request.POST or None, initial=initial, prompts=prompts, to_rate=to_rate
    )
    if request.method == "POST" and form.is_valid():
        try:
            reflection = services.save_reflection(
                user=request.user,
                meeting=meeting,
                answers=form.answers(),
                sharing=form.cleaned_data["sharing"],
                ratings=form.ratings(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            if reflection.screening_tier not in SUPPORT_TIERS_QUIET:
                messages.info(
                    request,
                    "Thank you for writing this down. If things feel heavy "
                    "right now, support is there for you at any hour.",
                )
                return redirect("safety:support")
            messages.success(request, "Saved to your journal.")
            return redirect("journal:detail", reflection.pk)
    return render(
        request,
        "journal/reflect.html",
        {"meeting": meeting, "form": form, "existing": existing},
    )


@login_required
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    reflection = services.own_reflection(user=request.user, pk=pk)
    return render(
        request,
        "journal/detail.html",
        {
            "reflection": reflection,
            "sharing_form": SharingForm(initial={"sharing": reflection.sharing}),
        },
    )


@login_required
@require_POST
def sharing(request: AuthedRequest, pk: int) -> HttpResponse:
    services.own_reflection(user=request.user, pk=pk)  # 404 before validation
    form = SharingForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose who may read this reflection.")
        return redirect("journal:detail", pk)
    reflection = services.set_sharing(
        user=request.user, pk=pk, sharing=form.cleaned_data["sharing"]
    )
    messages.success(
        request,
        "This reflection is private again."
        if reflection.sharing == Sharing.PRIVATE
        else "Shared with your group's facilitators. You can withdraw it any time.",
    )
    return redirect("journal:detail", pk)


@login_required
@require_POST
def delete(request: AuthedRequest, pk: int) -> HttpResponse:
    services.delete_reflection(user=request.user, pk=pk)
    messages.success(request, "The reflection was deleted.")
    return redirect("journal:index")


@login_required
def shared(request: AuthedRequest, slug: str) -> HttpResponse:
    group = services.facilitated_group(user=request.user, slug=slug)
    return render(
        request,
        "journal/shared.html",
        {"group": group, "rows": services.shared_with_facilitators(group)},
    )
