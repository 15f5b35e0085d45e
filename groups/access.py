"""Who may see and do what with a group. Views and services both use these.

A group a person may not see answers 404 (its existence is not revealed);
a group they may see but not manage answers 403.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import FACILITATING_ROLES, Meeting, Membership, Role, SupportGroup


def may_see(user: Any, group: SupportGroup) -> bool:
    """SupportGroup.objects.visible_to for one group already at hand: public
    groups, plus any group the user belongs to; staff see all. Deciding after
    the look-up by key keeps it one row instead of a scan of every group."""
    if group.is_public:
        return True
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or Membership.objects.filter(group=group, user=user).exists()


def visible_group(user: Any, slug: str) -> SupportGroup:
    group = SupportGroup.objects.filter(slug=slug).first()
    if group is None or not may_see(user, group):
        raise Http404("No such group.")
    return group


def visible_meeting(user: Any, pk: int) -> Meeting:
    meeting = Meeting.objects.select_related("group", "series").filter(pk=pk).first()
    if meeting is None or not may_see(user, meeting.group):
        raise Http404("No such session.")
    return meeting


def membership(group: SupportGroup, user: Any) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(group=group, user=user).first()


def require_member(group: SupportGroup, user: Any) -> Membership:
    found = membership(group, user)
    if found is None:
        raise PermissionDenied("Only members of this group can do that.")
    return found


def require_facilitating(group: SupportGroup, user: Any) -> Membership:
    """Facilitators and co-facilitators: schedule sessions, review requests."""
    found = membership(group, user)
    if found is None or found.role not in FACILITATING_ROLES:
        raise PermissionDenied("Only this group's facilitators can do that.")
    return found


def require_lead(group: SupportGroup, user: Any) -> Membership:
    """Facilitators only: group settings, roles, removals, invitations."""
    found = membership(group, user)
    if found is None or found.role != Role.FACILITATOR:
        raise PermissionDenied("Only this group's facilitators can do that.")
    return found
