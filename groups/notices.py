"""Emails about a group's membership and seats."""

from __future__ import annotations

from django.urls import reverse

from accounts.emails import absolute, send_templated

from .models import RSVP, JoinRequest, Membership, Role


def join_request_received(*, request_id: int) -> int:
    request = (
        JoinRequest.objects.select_related("group", "user")
        .filter(pk=request_id)
        .first()
    )
    if request is None or request.status != JoinRequest.Status.PENDING:
        return 0
    leads = Membership.objects.filter(
        group=request.group,
        role__in=[Role.FACILITATOR, Role.COFACILITATOR],
        user__email_group_updates=True,
        user__is_active=True,
    ).select_related("user")
    sent = 0
    for lead in leads:
        sent += send_templated(
            to=[lead.user.email],
            subject=f"A request to join {request.group.name}",
            template="groups/email/join_request",
            context={
                "request": request,
                "group": request.group,
                "recipient": lead.user,
                "url": absolute(reverse("groups:members", args=[request.group.slug])),
            },
            recipient_timezone=lead.user.timezone,
        )
    return sent


def join_request_decided(*, request_id: int) -> int:
    request = (
        JoinRequest.objects.select_related("group", "user")
        .filter(pk=request_id)
        .first()
    )
    if request is None or request.status not in (
        JoinRequest.Status.APPROVED,
        JoinRequest.Status.DECLINED,
    ):
        return 0
    user = request.user
    if not user.is_active:
        return 0
    approved = request.status == JoinRequest.Status.APPROVED
    return send_templated(
        to=[user.email],
        subject=(
            f"Welcome to {request.group.name}"
            if approved
            else f"About your request to join {request.group.name}"
        ),
        template="groups/email/join_decision",
        context={
            "request": request,
            "group": request.group,
            "approved": approved,
            "recipient": user,
            "url": absolute(
                reverse("groups:detail", args=[request.group.slug])
                if approved
                else reverse("groups:directory")
            ),
        },
        recipient_timezone=user.timezone,
    )


def waitlist_promoted(*, rsvp_id: int) -> int:
    rsvp = (
        RSVP.objects.select_related("meeting__group", "user").filter(pk=rsvp_id).first()
    )
    if rsvp is None or rsvp.status != RSVP.Status.GOING:
        return 0
    user = rsvp.user
    if not (user.is_active and user.email_group_updates):
        return 0
    meeting = rsvp.meeting
    return send_templated(
        to=[user.email],
        subject=f"A seat opened up: {meeting.title}",
        template="groups/email/waitlist_promoted",
        context={
            "meeting": meeting,
            "group": meeting.group,
            "recipient": user,
            "url": absolute(meeting.get_absolute_url()),
        },
        recipient_timezone=user.timezone,
    )
