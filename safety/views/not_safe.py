""" "I'm not safe right now" from the page footer, outside a room.

The crisis card for the person's country shows at once. For a signed-in
member, the facilitators of their groups are told privately (the groups
with a session on now, else all of them; docs/safety.md); a visitor gets
the card alone. A GET shows the card without telling anyone.
"""

from __future__ import annotations

import logging

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.http import HearthRequest
from accounts.models import User
from groups.models import Meeting
from safety.services.care import country_code, crisis_card
from safety.services.support import Answer, Target, groups_to_tell, say_not_safe

log = logging.getLogger("safety")


def _targets(request: HearthRequest, user: User) -> list[Target]:
    """The room's fallback form names its session: tell that group when the
    member belongs to it; anything else falls back to the usual rule."""
    raw = request.POST.get("meeting", "")
    if raw.isdigit():
        meeting = (
            Meeting.objects.filter(
                pk=int(raw),
                group__memberships__user=user,
                group__archived_at__isnull=True,
            )
            .select_related("group")
            .first()
        )
        if meeting is not None:
            return [(meeting.group, meeting)]
    return groups_to_tell(user)


@never_cache
@require_http_methods(["GET", "POST"])
def not_safe(request: HearthRequest) -> HttpResponse:
    user = request.user
    answer: Answer | None = None
    if request.method == "POST":
        targets = _targets(request, user) if isinstance(user, User) else []
        # Outside a room there is no telling whether a facilitator is
        # watching: imminent alerts are emailed at once.
        answer = say_not_safe(
            member=user, targets=targets, country=request.POST.get("country")
        )
        log.info(
            "not safe tap user=%s groups=%s alerts=%s repeated=%s",
            user.pk,
            [g.pk for g in answer.told],
            [a.pk for a in answer.alerts],
            answer.repeated,
        )
        card = answer.card
    else:
        country = request.GET.get("country") or getattr(user, "country", "")
        card = crisis_card(country_code(country), "imminent", held=False)
        card = {**card, "notice": ""}
    return render(
        request,
        "safety/not_safe.html",
        {"card": card, "answer": answer, "told": answer.told if answer else []},
    )
