"""Who may see and change what in the prompt library.

Roles, as the library understands them:
- a *curator* holds `prompts.curate_prompt` (staff who review the library);
- a *facilitator* may create groups (`groups.create_group`) or facilitates
  at least one group; curators count as facilitators too;
- everyone else (members, strangers) never sees the library: it is a
  facilitator's tool, and its pages answer 404 to them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from groups.models import FACILITATING_ROLES, Membership
from prompts.models import PromptVersion, SessionPlan

CURATE = "prompts.curate_prompt"


def is_curator(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.has_perm(CURATE))


def facilitated_group_ids(user: Any) -> set[int]:
    if not user.is_authenticated:
        return set()
    cached: set[int] | None = getattr(user, "_facilitated_group_ids", None)
    if cached is None:
        cached = set(
            Membership.objects.filter(
                user=user, role__in=FACILITATING_ROLES
            ).values_list("group_id", flat=True)
        )
        user._facilitated_group_ids = cached
    return cached


def is_facilitator(user: Any) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return (
        user.has_perm("groups.create_group")
        or is_curator(user)
        or bool(facilitated_group_ids(user))
    )


def facilitates_group(user: Any, group_id: int | None) -> bool:
    return group_id is not None and group_id in facilitated_group_ids(user)


def can_view_version(user: Any, version: PromptVersion) -> bool:
    """Published versions are for facilitators; the rest for author and curators."""
    if not is_facilitator(user):
        return False
    if version.status == PromptVersion.Status.PUBLISHED or is_curator(user):
        return True
    return user.pk in (version.author_id, version.prompt.author_id)


def can_edit_prompt(user: Any, version: PromptVersion) -> bool:
    """The prompt's author, or a curator, may write a new version."""
    if not is_facilitator(user):
        return False
    return is_curator(user) or user.pk == version.prompt.author_id


def plans_visible_to(user: Any) -> Q:
    """A filter for the plans this person may open."""
    if not is_facilitator(user):
        return Q(pk__in=[])
    return (
        Q(owner=user)
        | Q(is_template=True)
        | Q(group_id__in=facilitated_group_ids(user))
    )


def can_view_plan(user: Any, plan: SessionPlan) -> bool:
    if not is_facilitator(user):
        return False
    return plan.is_template or can_edit_plan(user, plan)


def can_edit_plan(user: Any, plan: SessionPlan) -> bool:
    """Only the plan's owner or the facilitators of its group."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.pk == plan.owner_id or facilitates_group(user, plan.group_id)
