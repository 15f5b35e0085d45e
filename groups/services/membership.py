"""Joining, leaving and running a group's membership."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.text import slugify

from groups import tasks
from groups.access import require_facilitating, require_lead
from groups.models import (
    RSVP,
    Invitation,
    JoinRequest,
    Meeting,
    Membership,
    Role,
    SupportGroup,
    hash_token,
)

from .scheduling import release_seat


def _unique_slug(name: str) -> str:
    base = slugify(name)[:80] or "group"
    slug, n = base, 2
    while SupportGroup.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


@transaction.atomic
def create_group(*, by: Any, **fields: Any) -> SupportGroup:
    """Create a group; its creator becomes its facilitator."""
    if not by.has_perm("groups.create_group"):
        raise PermissionDenied("Only facilitators can create groups.")
    group = SupportGroup(created_by=by, slug=_unique_slug(fields["name"]), **fields)
    group.full_clean()
    group.save()
    Membership.objects.create(group=group, user=by, role=Role.FACILITATOR)
    return group


def _has_room(group: SupportGroup) -> bool:
    members = group.memberships.filter(role=Role.MEMBER).count()
    return members < group.capacity


@transaction.atomic
def request_to_join(
    *, group: SupportGroup, user: Any, message: str = ""
) -> JoinRequest:
    """Ask to join a public group. Facilitators are told by email."""
    if not group.is_public:
        raise PermissionDenied("This group takes new members by invitation only.")
    if group.memberships.filter(user=user).exists():
        raise ValidationError("You're already a member of this group.")
    try:
        with transaction.atomic():
            request = JoinRequest.objects.create(
                group=group, user=user, message=message.strip()
            )
    except IntegrityError as error:
        raise ValidationError(
            "You've already asked to join; a facilitator will reply soon."
        ) from error
    tasks.notify_join_request.delay_on_commit(request.pk)
    return request


@transaction.atomic
def withdraw_request(*, group: SupportGroup, user: Any) -> None:
    updated = JoinRequest.objects.filter(
        group=group, user=user, status=JoinRequest.Status.PENDING
    ).update(status=JoinRequest.Status.WITHDRAWN, decided_at=timezone.now())
    if not updated:
        raise ValidationError("There is no open request to withdraw.")


@transaction.atomic
def decide_request(
    *, request_id: int, group: SupportGroup, by: Any, approve: bool
) -> JoinRequest:
    """Approve or decline a pending request; the requester is emailed."""
    require_facilitating(group, by)
    request = (
        JoinRequest.objects.select_for_update()
        .filter(pk=request_id, group=group)
        .first()
    )
    if request is None:
        raise Http404("No such request.")
    if request.status != JoinRequest.Status.PENDING:
        raise ValidationError("This request has already been answered.")
    if approve:
        SupportGroup.objects.select_for_update().filter(pk=group.pk).first()
        if not _has_room(group):
            raise ValidationError(
                "The group is full. Raise its capacity or make room before approving."
            )
        Membership.objects.get_or_create(group=group, user=request.user)
    request.status = (
        JoinRequest.Status.APPROVED if approve else JoinRequest.Status.DECLINED
    )
    request.decided_at = timezone.now()
    request.decided_by = by
    request.save(update_fields=["status", "decided_at", "decided_by"])
    tasks.notify_join_decision.delay_on_commit(request.pk)
    return request


@transaction.atomic
def create_invitation(
    *,
    group: SupportGroup,
    by: Any,
    days: int | None = None,
    max_uses: int | None = 1,
    label: str = "",
) -> tuple[Invitation, str]:
    """A new invitation link. The token is returned once; only its hash is kept."""
    require_lead(group, by)
    days = days or settings.HEARTH["INVITATION_DEFAULT_DAYS"]
    if not 1 <= days <= 90:
        raise ValidationError("Invitations last between 1 and 90 days.")
    if max_uses is not None and not 1 <= max_uses <= 500:
        raise ValidationError("An invitation can be used between 1 and 500 times.")
    token = secrets.token_urlsafe(24)
    invitation = Invitation.objects.create(
        group=group,
        token_hash=hash_token(token),
        created_by=by,
        expires_at=timezone.now() + dt.timedelta(days=days),
        max_uses=max_uses,
        label=label.strip()[:80],
    )
    return invitation, token


@transaction.atomic
def revoke_invitation(*, group: SupportGroup, by: Any, invitation_id: int) -> None:
    require_lead(group, by)
    Invitation.objects.filter(
        pk=invitation_id, group=group, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())


def find_invitation(token: str) -> Invitation | None:
    """A usable invitation for a token, or None (unknown, expired, revoked, used)."""
    if not token or len(token) > 100:
        return None
    found = (
        Invitation.objects.usable()
        .select_related("group")
        .filter(token_hash=hash_token(token), group__archived_at__isnull=True)
        .first()
    )
    return found


@transaction.atomic
def accept_invitation(*, token: str, user: Any) -> Membership:
    """Join through an invitation link. Each use is counted under a row lock."""
    invitation = find_invitation(token)
    if invitation is None:
        raise ValidationError(
            "This invitation link is no longer valid. Ask a facilitator for a new one."
        )
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_usable:
        raise ValidationError(
            "This invitation link is no longer valid. Ask a facilitator for a new one."
        )
    group = invitation.group
    existing = group.memberships.filter(user=user).first()
    if existing is not None:
        return existing
    if not _has_room(group):
        raise ValidationError("This group is full at the moment.")
    membership = Membership.objects.create(group=group, user=user)
    invitation.use_count += 1
    invitation.save(update_fields=["use_count"])
    JoinRequest.objects.filter(
        group=group, user=user, status=JoinRequest.Status.PENDING
    ).update(status=JoinRequest.Status.APPROVED, decided_at=timezone.now())
    return membership


def _leave(membership: Membership) -> None:
    """Drop someone's future seats (promoting the waitlist), then the membership."""
    future = RSVP.objects.filter(
        user=membership.user,
        meeting__group=membership.group,
        meeting__starts_at__gt=timezone.now(),
        meeting__status=Meeting.Status.SCHEDULED,
    ).select_related("meeting")
    for rsvp in future:
        release_seat(rsvp)
    membership.delete()


def _other_leads(membership: Membership) -> bool:
    return (
        Membership.objects.filter(group=membership.group, role=Role.FACILITATOR)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def leave_group(*, group: SupportGroup, user: Any) -> None:
    membership = group.memberships.select_for_update().filter(user=user).first()
    if membership is None:
        raise ValidationError("You're not a member of this group.")
    if membership.role == Role.FACILITATOR and not _other_leads(membership):
        raise ValidationError(
            "You're this group's only facilitator. Make someone else a "
            "facilitator before you leave."
        )
    _leave(membership)


@transaction.atomic
def remove_member(*, group: SupportGroup, by: Any, membership_id: int) -> None:
    require_lead(group, by)
    membership = group.memberships.select_for_update().filter(pk=membership_id).first()
    if membership is None:
        raise Http404("No such member.")
    if membership.user_id == by.pk:
        raise ValidationError("To leave the group yourself, use “Leave group”.")
    _leave(membership)


@transaction.atomic
def change_role(
    *, group: SupportGroup, by: Any, membership_id: int, role: str
) -> Membership:
    require_lead(group, by)
    if role not in Role.values:
        raise ValidationError("Choose member, co-facilitator or facilitator.")
    membership = group.memberships.select_for_update().filter(pk=membership_id).first()
    if membership is None:
        raise Http404("No such member.")
    if (
        membership.role == Role.FACILITATOR
        and role != Role.FACILITATOR
        and not _other_leads(membership)
    ):
        raise ValidationError("A group always keeps at least one facilitator.")
    membership.role = role
    membership.save(update_fields=["role"])
    # Facilitating roles never wait for a seat.
    RSVP.objects.filter(user=membership.user, meeting__group=group).update(
        takes_seat=role == Role.MEMBER
    )
    return membership
