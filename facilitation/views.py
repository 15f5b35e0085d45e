"""The room page: a server-rendered shell that the room module fills."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache

from accounts.http import AuthedRequest
from groups import access
from safety.services import needs_acceptance


@never_cache
@login_required
def room(request: AuthedRequest, pk: int) -> HttpResponse:
    meeting = access.visible_meeting(request.user, pk)
    membership = access.require_member(meeting.group, request.user)
    if needs_acceptance(request.user, meeting.group) is not None:
        accept = reverse("safety:accept_guidelines", args=[meeting.group.slug])
        return redirect(f"{accept}?{urlencode({'next': request.path})}")
    bootstrap = {
        "meeting_id": meeting.pk,
        "ws_path": f"/ws/sessions/{meeting.pk}/",
        "user_id": request.user.pk,
        "role": membership.role,
        "facilitates": membership.facilitates,
    }
    return render(
        request,
        "facilitation/room.html",
        {
            "meeting": meeting,
            "group": meeting.group,
            "membership": membership,
            "bootstrap": bootstrap,
        },
    )
