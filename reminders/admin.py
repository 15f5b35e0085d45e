"""Deliveries in the admin: filter by state to see what failed, and why
(an error class name, never the message)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .models import (
    Delivery,
    GroupOptOut,
    GroupReminderOptions,
    MemberPreferences,
    State,
)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "kind",
        "state",
        "reason",
        "meeting",
        "user",
        "offset_minutes",
        "attempts",
        "last_error",
        "send_after",
        "sent_at",
    )
    list_filter = ("state", "kind", "reason")
    search_fields = ("=meeting__pk", "=user__pk")
    date_hierarchy = "created_at"
    list_select_related = ("meeting", "user")
    raw_id_fields = ("meeting", "user")
    actions = ["send_again"]
    readonly_fields = (
        "meeting",
        "user",
        "kind",
        "offset_minutes",
        "sequence",
        "due_at",
        "created_at",
        "sent_at",
        "claimed_at",
        "dispatched_at",
        "attempts",
        "last_error",
    )

    @admin.action(description="Send again (failed or interrupted only)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = queryset.filter(state=State.FAILED).update(
            state=State.PENDING,
            attempts=0,
            reason="",
            send_after=timezone.now(),
            dispatched_at=None,
        )
        self.message_user(
            request,
            f"{count} deliver{'y' if count == 1 else 'ies'} queued again.",
            messages.SUCCESS,
        )


admin.site.register(GroupReminderOptions)
admin.site.register(MemberPreferences)
admin.site.register(GroupOptOut)
