"""A member's email choices: the account switches, per-group opt-outs and
quiet hours. Only the member changes them (or a signed unsubscribe link,
which can only switch emails off)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import User
from groups.models import SupportGroup

from .models import Family, GroupOptOut, MemberPreferences
from .services.audience import SWITCH_OF_FAMILY


def family_label(family: str) -> str:
    return str(Family(family).label).lower()


@transaction.atomic
def opt_out(*, user: User, family: str, group: SupportGroup | None) -> None:
    """Stop one family of emails from one group, or from everywhere."""
    if group is None:
        setattr(user, SWITCH_OF_FAMILY[Family(family)], False)
        user.save(update_fields=[SWITCH_OF_FAMILY[Family(family)]])
        return
    GroupOptOut.objects.get_or_create(user=user, group=group, family=family)


def current(user: User) -> dict[str, Any]:
    prefs = MemberPreferences.objects.filter(user=user).first()
    return {
        "email_reminders": user.email_reminders,
        "email_reflections": user.email_reflections,
        "email_group_updates": user.email_group_updates,
        "quiet_start": prefs.quiet_start if prefs else None,
        "quiet_end": prefs.quiet_end if prefs else None,
        "opt_outs": [
            f"{o.family}:{o.group_id}" for o in GroupOptOut.objects.filter(user=user)
        ],
    }


@transaction.atomic
def save(*, user: User, data: dict[str, Any]) -> None:
    for field in ("email_reminders", "email_reflections", "email_group_updates"):
        setattr(user, field, bool(data.get(field)))
    user.save(
        update_fields=["email_reminders", "email_reflections", "email_group_updates"]
    )
    MemberPreferences.objects.update_or_create(
        user=user,
        defaults={
            "quiet_start": data.get("quiet_start"),
            "quiet_end": data.get("quiet_end"),
        },
    )
    wanted = set(data.get("opt_outs") or [])
    member_of = set(
        SupportGroup.objects.filter(memberships__user=user).values_list("pk", flat=True)
    )
    existing = {
        f"{o.family}:{o.group_id}": o for o in GroupOptOut.objects.filter(user=user)
    }
    for key, row in existing.items():
        if key not in wanted:
            row.delete()
    for key in wanted - existing.keys():
        family, _, group_id = key.partition(":")
        if (
            family in Family.values
            and group_id.isdigit()
            and int(group_id) in member_of
        ):
            GroupOptOut.objects.create(user=user, group_id=int(group_id), family=family)
