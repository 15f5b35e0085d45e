"""Close a person's room sockets when they lose access: removed from the
group, or logged out (on any device)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from groups.models import Membership

from . import events


@receiver(post_save, sender=Membership)
def membership_changed(
    sender: Any, instance: Membership, created: bool, **kwargs: Any
) -> None:
    """A new role takes effect on open sockets at once (a demoted
    co-facilitator stops receiving facilitators' private notices)."""
    if not created:
        events.tell_user(
            instance.user_id,
            {"type": "room.role", "group_id": instance.group_id, "role": instance.role},
        )


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def account_disabled(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A disabled account loses every open socket at once."""
    if not created and not instance.is_active:
        events.tell_user(instance.pk, {"type": "room.kick", "code": 4401})


@receiver(post_delete, sender=Membership)
def membership_ended(sender: Any, instance: Membership, **kwargs: Any) -> None:
    events.tell_user(
        instance.user_id,
        {"type": "room.kick", "group_id": instance.group_id, "code": 4403},
    )


@receiver(user_logged_out)
def logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Only the sockets of the session that logged out (its tabs), not the
    person's other devices."""
    session = getattr(request, "session", None)
    if user is not None and session is not None and session.session_key:
        events.tell_user(
            user.pk,
            {"type": "room.kick", "code": 4401, "session_key": session.session_key},
        )


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def names_changed(sender: Any, **kwargs: Any) -> None:
    """Snapshots list names from a short per-process memo: start it afresh
    here when a name or role changes (other processes catch up within
    presence.NAMES_SECONDS)."""
    from .services.presence import forget_names

    forget_names()
