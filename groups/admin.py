from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from .models import (
    RSVP,
    Invitation,
    JoinRequest,
    Meeting,
    MeetingSeries,
    Membership,
    Role,
    SupportGroup,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "display_name", "joined_at"]


@admin.register(SupportGroup)
class SupportGroupAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "topic",
        "visibility",
        "region",
        "timezone",
        "members",
        "capacity",
        "archived_at",
    ]
    list_filter = ["visibility", "topic", "region", "archived_at"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]
    date_hierarchy = "created_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[SupportGroup]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                member_total=Count(
                    "memberships", filter=Q(memberships__role=Role.MEMBER)
                )
            )
        )

    @admin.display(ordering="member_total")
    def members(self, obj: SupportGroup) -> int:
        return obj.member_total  # type: ignore[attr-defined]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "group", "role", "display_name", "joined_at"]
    list_filter = ["role", "group"]
    search_fields = ["user__email", "user__display_name", "display_name", "group__name"]
    autocomplete_fields = ["user", "group"]
    list_select_related = ["user", "group"]


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "group", "status", "created_at", "decided_at", "decided_by"]
    list_filter = ["status", "group"]
    search_fields = ["user__email", "user__display_name", "group__name"]
    list_select_related = ["user", "group", "decided_by"]
    autocomplete_fields = ["user", "group"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "group",
        "label",
        "created_by",
        "created_at",
        "expires_at",
        "use_count",
        "max_uses",
        "revoked_at",
    ]
    list_filter = ["group"]
    search_fields = ["label", "group__name"]
    readonly_fields = ["token_hash", "use_count"]
    list_select_related = ["group", "created_by"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected invitations")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        from django.utils import timezone

        queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


@admin.register(MeetingSeries)
class MeetingSeriesAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "group",
        "frequency",
        "weekday",
        "local_time",
        "timezone",
        "starts_on",
        "ends_on",
        "generated_until",
    ]
    list_filter = ["frequency", "group"]
    search_fields = ["title", "group__name"]
    list_select_related = ["group"]


class RSVPInline(admin.TabularInline):
    model = RSVP
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "group",
        "starts_at",
        "duration_minutes",
        "status",
        "series",
        "detached",
    ]
    list_filter = ["status", "detached", "group"]
    search_fields = ["title", "group__name"]
    date_hierarchy = "starts_at"
    list_select_related = ["group", "series"]
    readonly_fields = ["ends_at", "sequence"]
    inlines = [RSVPInline]


@admin.register(RSVP)
class RSVPAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "meeting",
        "status",
        "takes_seat",
        "responded_at",
        "waitlisted_at",
    ]
    list_filter = ["status", "takes_seat"]
    search_fields = ["user__email", "user__display_name", "meeting__title"]
    list_select_related = ["user", "meeting"]
    autocomplete_fields = ["user", "meeting"]
