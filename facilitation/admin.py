"""Admin for the room: private threads are listed as facts (who, when, how
many lines), never with their text (docs/safety.md, "Private threads").
Thread lines have no admin at all."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from .models import PrivateThread


@admin.register(PrivateThread)
class PrivateThreadAdmin(admin.ModelAdmin):
    list_display = ("pk", "room", "member", "opened_by", "opened_at", "closed_at")
    list_filter = ("closed_at",)
    fields = ("room", "member", "opened_by", "opened_at", "closed_at", "lines")
    readonly_fields = fields
    raw_id_fields = ("room", "member", "opened_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet[PrivateThread]:
        return super().get_queryset(request).annotate(line_count=Count("messages"))

    @admin.display(description="Lines (text not shown)")
    def lines(self, obj: Any) -> int:
        return int(getattr(obj, "line_count", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
