"""Who may moderate which group. Staff moderate every group."""

from __future__ import annotations

from typing import Any

from django.http import Http404

from groups.models import FACILITATING_ROLES, SupportGroup
from groups.models import Membership as _Membership


def can_moderate(user: Any, group: SupportGroup | int) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_staff:
        return True
    group_id = getattr(group, "pk", group)
    return _Membership.objects.filter(
        group_id=group_id, user=user, role__in=FACILITATING_ROLES
    ).exists()


def require_moderator(user: Any, group: SupportGroup | int) -> None:
    """404, not 403: a queue item of another group is not revealed."""
    if not can_moderate(user, group):
        raise Http404("No such item.")


def moderated_groups(user: Any) -> Any:
    """The groups whose queue `user` sees."""
    if user is None or not user.is_authenticated:
        return SupportGroup.objects.none()
    if user.is_staff:
        return SupportGroup.objects.all()
    return SupportGroup.objects.filter(
        memberships__user=user, memberships__role__in=FACILITATING_ROLES
    ).distinct()
