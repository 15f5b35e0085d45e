from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import (
    AlertDelivery,
    AuditLog,
    CareResource,
    GroupSafetyPolicy,
    GuidelinesAcceptance,
    GuidelinesVersion,
    HeldMessage,
    Mute,
    PinnedResource,
    Report,
    SafetyAlert,
    WordAllow,
    WordRule,
)


@admin.register(CareResource)
class CareResourceAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "country_list",
        "everywhere",
        "phone",
        "sms",
        "last_verified",
        "active",
        "is_example",
    )
    list_filter = (
        "kind",
        "topic",
        "active",
        "everywhere",
        ("last_verified", admin.EmptyFieldListFilter),
        "is_example",
    )
    search_fields = ("name", "slug", "what_to_expect", "source_url")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("ordering", "name")

    @admin.display(description="countries")
    def country_list(self, obj: CareResource) -> str:
        return ", ".join(sorted(obj.country_codes)) or "—"


@admin.register(PinnedResource)
class PinnedResourceAdmin(admin.ModelAdmin):
    list_display = ("resource", "group", "pinned_by", "pinned_at")
    raw_id_fields = ("group", "resource", "pinned_by")


@admin.register(WordRule)
class WordRuleAdmin(admin.ModelAdmin):
    list_display = ("word", "is_pattern", "whole_word", "language", "action", "active")
    list_filter = ("action", "active", "language", "whole_word")
    search_fields = ("word",)


@admin.register(WordAllow)
class WordAllowAdmin(admin.ModelAdmin):
    list_display = ("word", "language")
    search_fields = ("word",)


@admin.register(GroupSafetyPolicy)
class GroupSafetyPolicyAdmin(admin.ModelAdmin):
    list_display = ("group", "concern_action")
    raw_id_fields = ("group",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through safety services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "action",
        "actor_id",
        "target_type",
        "target_id",
        "group_id",
        "reason",
    )
    list_filter = ("action", "target_type")
    search_fields = ("action", "target_id", "reason")
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "action",
        "actor_id",
        "target_type",
        "target_id",
        "group_id",
        "reason",
    )
    readonly_fields = fields


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "group",
        "event_id",
        "reason",
        "status",
        "outcome",
        "created_at",
    )
    list_filter = ("status", "reason", "outcome")
    raw_id_fields = ("reporter", "author", "group", "meeting", "resolved_by")


@admin.register(HeldMessage)
class HeldMessageAdmin(ReadOnlyAdmin):
    # The text is not listed: staff review it in the moderation queue.
    list_display = ("pk", "group", "author", "tier", "status", "created_at")
    list_filter = ("status", "tier")
    exclude = ("text",)


@admin.register(SafetyAlert)
class SafetyAlertAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "group",
        "tier",
        "severity",
        "count",
        "created_at",
        "acknowledged_at",
        "emailed_at",
        "escalated_at",
    )
    list_filter = ("tier",)


@admin.register(AlertDelivery)
class AlertDeliveryAdmin(ReadOnlyAdmin):
    """The alert email outbox (docs/operations.md, Safety alert emails)."""

    list_display = (
        "alert",
        "kind",
        "address",
        "attempts",
        "last_error",
        "tried_at",
        "sent_at",
    )
    list_filter = ("kind", ("sent_at", admin.EmptyFieldListFilter))
    actions = ["send_again"]

    @admin.action(description="Send again (the next sweep tries them)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = queryset.filter(sent_at__isnull=True).update(
            attempts=0, tried_at=None, claimed_at=None
        )
        self.message_user(request, f"{count} unsent emails will be tried again.")


@admin.register(Mute)
class MuteAdmin(ReadOnlyAdmin):
    list_display = ("user", "group", "until", "by", "reason", "lifted_at")


@admin.register(GuidelinesVersion)
class GuidelinesVersionAdmin(ReadOnlyAdmin):
    list_display = ("group", "number", "created_at")


@admin.register(GuidelinesAcceptance)
class GuidelinesAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("user", "version", "accepted_at")
