"""The home page, my schedule and my calendar feed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.http import AuthedRequest, HearthRequest
from accounts.models import User
from groups import ics
from groups.models import RSVP, Meeting, SupportGroup


def _my_upcoming(user: User, limit: int) -> list[Meeting]:
    meetings = (
        Meeting.objects.filter(
            group__memberships__user=user,
            ends_at__gt=timezone.now(),
        )
        .select_related("group")
        .order_by("starts_at", "pk")[:limit]
    )
    found = list(meetings)
    answers = dict(
        RSVP.objects.filter(user=user, meeting__in=[m.pk for m in found]).values_list(
            "meeting_id", "status"
        )
    )
    for meeting in found:
        meeting.my_rsvp = answers.get(meeting.pk)  # type: ignore[attr-defined]
    return found


def home(request: HearthRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        featured = SupportGroup.objects.public().order_by("-created_at")[:3]
        return render(request, "home.html", {"featured": featured})
    return render(
        request,
        "home.html",
        {
            "upcoming": _my_upcoming(request.user, 5),
            "group_count": SupportGroup.objects.of_member(request.user).count(),
        },
    )


@login_required
def schedule(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "groups/schedule.html",
        {"meetings": _my_upcoming(request.user, 100)},
    )


@login_required
def calendar(request: AuthedRequest) -> HttpResponse:
    """Show the private feed link; POST makes a new one and retires the old."""
    user = request.user
    if request.method == "POST":
        User.objects.filter(pk=user.pk).update(
            calendar_feed_generation=F("calendar_feed_generation") + 1
        )
        user.refresh_from_db(fields=["calendar_feed_generation"])
        messages.success(
            request, "A new link is ready. The old one has stopped working."
        )
        return redirect("groups:calendar")
    url = request.build_absolute_uri(
        reverse("groups:feed", args=[ics.feed_token(user)])
    )
    return render(request, "groups/calendar.html", {"feed_url": url})
