"""Curators work the library here too: review actions call the same services
as the staff pages, so the rules (who may publish, immutability) hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from prompts.models import (
    PlanAssignment,
    PlanItem,
    Prompt,
    PromptRating,
    PromptVersion,
    ReviewComment,
    SessionPlan,
    Theme,
)
from prompts.services import workflow

Status = PromptVersion.Status


def _each(
    request: HttpRequest, items: QuerySet[Any], act: Callable[[Any], object], done: str
) -> None:
    count = 0
    for item in items:
        try:
            act(item)
            count += 1
        except (ValidationError, PermissionDenied) as e:
            messages.warning(
                request,
                f"{item}: {'; '.join(getattr(e, 'messages', [str(e) or 'not allowed']))}",
            )
    if count:
        messages.success(request, f"{done}: {count}.")


def _publish_latest(prompt: Prompt, by: Any) -> PromptVersion:
    latest = workflow.latest_version(prompt)
    if latest is None:
        raise ValidationError("It has no versions.")
    return workflow.publish_version(version=latest, by=by)


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    prepopulated_fields = {"slug": ["name"]}


class CommentInline(admin.TabularInline):
    model = ReviewComment
    extra = 0
    readonly_fields = ["action", "author", "body", "created_at"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # comments come with review decisions


class RequestChangesForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea, max_length=2000)


@admin.register(PromptVersion)
class PromptVersionAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "prompt",
        "number",
        "status",
        "kind",
        "intensity",
        "author",
    ]
    list_filter = ["status", "kind", "intensity", "themes", "language", "author"]
    search_fields = ["title", "text", "prompt__slug"]
    list_select_related = ["prompt", "author"]
    inlines = [CommentInline]
    actions = ["publish", "request_changes", "retire"]
    readonly_fields = [
        "prompt",
        "number",
        "status",
        "author",
        "created_at",
        "submitted_at",
        "reviewed_at",
        "reviewed_by",
        "published_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # new prompts and versions come from the library or import

    def get_readonly_fields(
        self, request: HttpRequest, obj: PromptVersion | None = None
    ) -> list[str]:
        if obj is not None and not obj.is_editable:
            return [f.name for f in obj._meta.fields] + ["themes"]
        return list(self.readonly_fields)

    def save_model(
        self, request: HttpRequest, obj: PromptVersion, form: Any, change: bool
    ) -> None:
        # A published version shows every field read-only; saving it would
        # only trip the immutability guard.
        if not obj.is_frozen:
            super().save_model(request, obj, form, change)

    @admin.action(description="Publish selected versions", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[PromptVersion]) -> None:
        _each(
            request,
            queryset,
            lambda v: workflow.publish_version(version=v, by=request.user),
            "Published",
        )

    @admin.action(description="Ask for changes (with a note)", permissions=["change"])
    def request_changes(
        self, request: HttpRequest, queryset: QuerySet[PromptVersion]
    ) -> HttpResponse | None:
        form = RequestChangesForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            comment = form.cleaned_data["comment"]
            _each(
                request,
                queryset,
                lambda v: workflow.request_changes(
                    version=v, by=request.user, comment=comment
                ),
                "Sent back",
            )
            return None
        return TemplateResponse(
            request,
            "prompts/admin/request_changes.html",
            {
                **self.admin_site.each_context(request),
                "title": "Ask for changes",
                "form": form,
                "versions": queryset,
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )

    @admin.action(
        description="Retire the prompts of selected versions", permissions=["change"]
    )
    def retire(self, request: HttpRequest, queryset: QuerySet[PromptVersion]) -> None:
        prompts = Prompt.objects.filter(versions__in=queryset).distinct()
        _each(
            request,
            prompts,
            lambda p: workflow.retire_prompt(prompt=p, by=request.user),
            "Retired",
        )


class VersionInline(admin.TabularInline):
    model = PromptVersion
    extra = 0
    fields = ["number", "title", "status", "kind", "intensity", "author", "created_at"]
    readonly_fields = ["number", "title", "status", "kind", "intensity", "author"]
    readonly_fields += ["created_at"]
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Prompt)
class PromptAdmin(admin.ModelAdmin):
    list_display = ["slug", "author", "credit", "created_at"]
    list_filter = [
        ("versions__status", admin.AllValuesFieldListFilter),
        "versions__kind",
        "versions__themes",
        "author",
    ]
    search_fields = ["slug", "versions__title", "credit"]
    list_select_related = ["author"]
    inlines = [VersionInline]
    actions = ["publish_latest", "retire"]
    readonly_fields = ["created_at"]

    @admin.action(description="Publish the latest version", permissions=["change"])
    def publish_latest(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        _each(
            request,
            queryset,
            lambda p: _publish_latest(p, request.user),
            "Published",
        )

    @admin.action(description="Retire selected prompts", permissions=["change"])
    def retire(self, request: HttpRequest, queryset: QuerySet[Prompt]) -> None:
        _each(
            request,
            queryset,
            lambda p: workflow.retire_prompt(prompt=p, by=request.user),
            "Retired",
        )


class PlanItemInline(admin.TabularInline):
    model = PlanItem
    extra = 0
    raw_id_fields = ["version"]
    ordering = ["position"]


class AssignmentInline(admin.TabularInline):
    model = PlanAssignment
    extra = 0
    raw_id_fields = ["meeting", "series", "assigned_by"]


@admin.register(SessionPlan)
class SessionPlanAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "group", "is_template", "updated_at"]
    list_filter = ["is_template", "group"]
    search_fields = ["title", "key"]
    raw_id_fields = ["owner", "group", "copied_from"]
    inlines = [PlanItemInline, AssignmentInline]


@admin.register(PromptRating)
class PromptRatingAdmin(admin.ModelAdmin):
    list_display = ["version", "meeting", "score", "created_at"]
    raw_id_fields = ["member", "version", "meeting"]
