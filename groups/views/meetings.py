"""Sessions: scheduling, the session page, RSVPs and calendar files."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.http import AuthedRequest, HearthRequest
from groups import access, ics, services
from groups.forms import MeetingEditForm, MeetingForm, SeriesForm
from groups.models import RSVP, Meeting, MeetingSeries

from .common import form_errors_from


def _dst_notes(request: HttpRequest, notes: list[str] | str) -> None:
    for note in [notes] if isinstance(notes, str) else notes[:3]:
        if note:
            messages.warning(request, note)


@login_required
def new_meeting(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    access.require_facilitating(group, request.user)
    form = MeetingForm(request.POST or None, zone_name=group.timezone)
    if request.method == "POST" and form.is_valid():
        try:
            meeting, note = services.schedule_meeting(
                group=group, by=request.user, **form.service_kwargs()
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            _dst_notes(request, note)
            messages.success(request, "Session scheduled.")
            return redirect(meeting)
    return render(request, "groups/meeting_form.html", {"group": group, "form": form})


@login_required
def new_series(request: AuthedRequest, slug: str) -> HttpResponse:
    group = access.visible_group(request.user, slug)
    access.require_facilitating(group, request.user)
    form = SeriesForm(
        request.POST or None,
        initial={"starts_on": timezone.localdate(), "frequency": "weekly"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            series, notes = services.create_series(
                group=group, by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            _dst_notes(request, notes)
            messages.success(request, f"Series scheduled: {series.describe()}.")
            return redirect(group)
    return render(
        request,
        "groups/series_form.html",
        {"group": group, "form": form},
    )


def detail(request: HearthRequest, pk: int) -> HttpResponse:
    meeting = access.visible_meeting(request.user, pk)
    membership = access.membership(meeting.group, request.user)
    rsvp = None
    if membership is not None:
        rsvp = RSVP.objects.filter(meeting=meeting, user_id=membership.user_id).first()
    going = Q(status=RSVP.Status.GOING)
    # One pass over the session's RSVPs for every figure on the page.
    figures = meeting.rsvps.aggregate(
        going_count=Count("pk", filter=going),
        seats_taken=Count("pk", filter=going & Q(takes_seat=True)),
        waitlist_count=Count("pk", filter=Q(status=RSVP.Status.WAITLISTED)),
    )
    context = {
        "meeting": meeting,
        "group": meeting.group,
        "membership": membership,
        "rsvp": rsvp,
        **figures,
        "waitlist_position": _waitlist_position(meeting, rsvp),
    }
    return render(request, "groups/meeting_detail.html", context)


def _waitlist_position(meeting: Meeting, rsvp: RSVP | None) -> int | None:
    if rsvp is None or rsvp.status != RSVP.Status.WAITLISTED or not rsvp.waitlisted_at:
        return None
    ahead = meeting.rsvps.filter(
        status=RSVP.Status.WAITLISTED, waitlisted_at__lt=rsvp.waitlisted_at
    ).count()
    return ahead + 1


@login_required
def edit(request: AuthedRequest, pk: int) -> HttpResponse:
    meeting = access.visible_meeting(request.user, pk)
    access.require_facilitating(meeting.group, request.user)
    local = meeting.local_start
    initial = {
        "title": meeting.title,
        "description": meeting.description,
        "day": local.date(),
        "at": local.time().replace(tzinfo=None),
        "duration_minutes": meeting.duration_minutes,
        "capacity": meeting.capacity,
        "scope": "one",
    }
    form = MeetingEditForm(request.POST or None, initial=initial, meeting=meeting)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data.get("scope") == "series" and meeting.series:
                notes = _edit_series_from(meeting, request, form)
            else:
                notes = [
                    services.edit_meeting(
                        meeting=meeting, by=request.user, **form.service_kwargs()
                    )
                ]
        except ValidationError as error:
            form_errors_from(form, error)
        else:
            _dst_notes(request, notes)
            messages.success(request, "Changes saved.")
            target = Meeting.objects.filter(pk=meeting.pk).first()
            return redirect(target or meeting.group)
    return render(
        request,
        "groups/meeting_form.html",
        {"group": meeting.group, "form": form, "meeting": meeting},
    )


def _edit_series_from(
    meeting: Meeting, request: AuthedRequest, form: MeetingEditForm
) -> list[str]:
    """Apply the edited day and time to the whole series as its new rule."""
    series: MeetingSeries = meeting.series  # type: ignore[assignment]
    data = form.cleaned_data
    new_day: dt.date = data["day"]
    shift = new_day - (meeting.occurrence_date or new_day)
    return services.edit_series(
        series=series,
        by=request.user,
        title=data["title"],
        description=data["description"],
        duration_minutes=data["duration_minutes"],
        capacity=data["capacity"],
        local_time=data["at"],
        weekday=new_day.weekday(),
        starts_on=max(series.starts_on + shift, timezone.localdate()),
    )


@login_required
@require_POST
def cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    meeting = access.visible_meeting(request.user, pk)
    try:
        services.cancel_meeting(meeting=meeting, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "The session is cancelled.")
    return redirect(meeting)


@login_required
@require_POST
def rsvp(request: AuthedRequest, pk: int) -> HttpResponse:
    meeting = access.visible_meeting(request.user, pk)
    answer = request.POST.get("answer")
    if answer not in ("going", "not_going"):
        messages.error(request, "Choose “going” or “not going”.")
        return redirect(meeting)
    try:
        result = services.respond(
            meeting=meeting, user=request.user, going=answer == "going"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            {
                RSVP.Status.GOING: "You're going. See you there.",
                RSVP.Status.WAITLISTED: "The session is full, so you're on the "
                "waitlist. We'll email you if a seat opens.",
                RSVP.Status.NOT_GOING: "Thanks for letting us know. You're "
                "welcome any time.",
            }[RSVP.Status(result.status)],
        )
    return redirect(meeting)


def meeting_ics(request: HearthRequest, pk: int) -> HttpResponse:
    meeting = access.visible_meeting(request.user, pk)
    body = ics.calendar_bytes([meeting])
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="hearth-session-{meeting.pk}.ics"'
    )
    return response


def feed(request: HearthRequest, token: str) -> HttpResponse:
    """A member's private calendar feed: every session of their groups."""
    user = ics.user_for_feed_token(token)
    if user is None:
        raise Http404("No such calendar.")
    since = timezone.now() - dt.timedelta(days=30)
    meetings = (
        Meeting.objects.filter(group__memberships__user=user, starts_at__gte=since)
        .select_related("group")
        .order_by("starts_at")[:500]
    )
    body = ics.calendar_bytes(meetings, name="Hearth sessions")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response
