"""Joining, invitations, roles and leaving (catalogue A-21)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from groups import services
from groups.models import Invitation, JoinRequest, Membership, Role, Visibility
from groups.services.membership import find_invitation
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_creating_a_group_needs_the_facilitator_permission(stranger):
    with pytest.raises(PermissionDenied):
        services.create_group(
            by=stranger,
            name="Nope",
            description="x",
            guidelines="y",
        )


def test_creator_becomes_facilitator_and_slug_is_unique(db):
    from django.contrib.auth.models import Group as AuthGroup

    lead = UserFactory()
    AuthGroup.objects.get(name="Facilitators").user_set.add(lead)
    lead = type(lead).objects.get(pk=lead.pk)  # fresh permission cache
    first = services.create_group(
        by=lead, name="Rest circle", description="d", guidelines="g"
    )
    second = services.create_group(
        by=lead, name="Rest circle", description="d", guidelines="g"
    )
    assert first.slug == "rest-circle" and second.slug == "rest-circle-2"
    assert Membership.objects.get(group=first, user=lead).role == Role.FACILITATOR


def test_join_request_is_emailed_to_facilitators_and_approval_to_the_requester(
    group,
    facilitator,
    cofacilitator,
    stranger,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        request = services.request_to_join(
            group=group, user=stranger, message="my private sentinel note"
        )
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [facilitator.email, cofacilitator.email]
    )
    assert "sentinel" not in mailoutbox[0].body  # the note stays in the app
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_request(
            request_id=request.pk, group=group, by=cofacilitator, approve=True
        )
    assert Membership.objects.filter(group=group, user=stranger).exists()
    assert [m.to for m in mailoutbox] == [[stranger.email]]
    assert "Welcome" in mailoutbox[0].subject
    html = mailoutbox[0].alternatives[0].content
    assert group.name in html


def test_declined_request_creates_no_membership(
    group, facilitator, stranger, mailoutbox, django_capture_on_commit_callbacks
):
    request = services.request_to_join(group=group, user=stranger)
    with django_capture_on_commit_callbacks(execute=True):
        services.decide_request(
            request_id=request.pk, group=group, by=facilitator, approve=False
        )
    assert not Membership.objects.filter(group=group, user=stranger).exists()
    assert mailoutbox[-1].to == [stranger.email]
    with pytest.raises(ValidationError):
        services.decide_request(
            request_id=request.pk, group=group, by=facilitator, approve=True
        )


def test_duplicate_and_member_requests_are_refused(group, member, stranger):
    services.request_to_join(group=group, user=stranger)
    with pytest.raises(ValidationError, match="already asked"):
        services.request_to_join(group=group, user=stranger)
    with pytest.raises(ValidationError, match="already a member"):
        services.request_to_join(group=group, user=member)
    assert JoinRequest.objects.count() == 1


def test_invite_only_groups_take_no_requests(stranger):
    hidden = SupportGroupFactory(visibility=Visibility.INVITE)
    with pytest.raises(PermissionDenied):
        services.request_to_join(group=hidden, user=stranger)


def test_members_cannot_decide_requests(group, member, stranger):
    request = services.request_to_join(group=group, user=stranger)
    with pytest.raises(PermissionDenied):
        services.decide_request(
            request_id=request.pk, group=group, by=member, approve=True
        )


def test_request_of_another_group_is_not_found(group, facilitator, stranger):
    other = SupportGroupFactory()
    request = services.request_to_join(group=other, user=stranger)
    with pytest.raises(Http404):
        services.decide_request(
            request_id=request.pk, group=group, by=facilitator, approve=True
        )


def test_full_group_cannot_approve(facilitator, group, stranger):
    group.capacity = 2
    group.save()
    MembershipFactory.create_batch(2, group=group)
    request = services.request_to_join(group=group, user=stranger)
    with pytest.raises(ValidationError, match="full"):
        services.decide_request(
            request_id=request.pk, group=group, by=facilitator, approve=True
        )
    assert JoinRequest.objects.get(pk=request.pk).status == "pending"


def test_invitation_token_is_stored_hashed_and_single_use(group, facilitator):
    invitation, token = services.create_invitation(
        group=group, by=facilitator, max_uses=1
    )
    assert token not in invitation.token_hash
    assert len(invitation.token_hash) == 64
    first, second = UserFactory(), UserFactory()
    services.accept_invitation(token=token, user=first)
    with pytest.raises(ValidationError, match="no longer valid"):
        services.accept_invitation(token=token, user=second)
    assert not Membership.objects.filter(group=group, user=second).exists()
    assert Invitation.objects.get(pk=invitation.pk).use_count == 1


def test_multi_use_invitation_and_revocation(group, facilitator):
    invitation, token = services.create_invitation(
        group=group, by=facilitator, max_uses=None
    )
    for _ in range(3):
        services.accept_invitation(token=token, user=UserFactory())
    services.revoke_invitation(group=group, by=facilitator, invitation_id=invitation.pk)
    with pytest.raises(ValidationError):
        services.accept_invitation(token=token, user=UserFactory())
    assert group.memberships.filter(role=Role.MEMBER).count() == 3


def test_expired_invitation_is_refused(group, facilitator):
    _, token = services.create_invitation(group=group, by=facilitator, days=1)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    with time_machine.travel(later, tick=False):
        assert find_invitation(token) is None
        with pytest.raises(ValidationError):
            services.accept_invitation(token=token, user=UserFactory())


def test_unknown_or_garbage_tokens_find_nothing(db):
    assert find_invitation("nope") is None
    assert find_invitation("x" * 5000) is None
    assert find_invitation("") is None


def test_only_leads_manage_invitations_and_roles(group, cofacilitator, member):
    with pytest.raises(PermissionDenied):
        services.create_invitation(group=group, by=cofacilitator)
    membership = Membership.objects.get(group=group, user=member)
    with pytest.raises(PermissionDenied):
        services.change_role(
            group=group,
            by=cofacilitator,
            membership_id=membership.pk,
            role="facilitator",
        )


def test_last_facilitator_can_neither_leave_nor_be_demoted(group, facilitator):
    with pytest.raises(ValidationError, match="only facilitator"):
        services.leave_group(group=group, user=facilitator)
    mine = Membership.objects.get(group=group, user=facilitator)
    with pytest.raises(ValidationError, match="at least one facilitator"):
        services.change_role(
            group=group, by=facilitator, membership_id=mine.pk, role="member"
        )


def test_remove_member(group, facilitator, member):
    target = Membership.objects.get(group=group, user=member)
    services.remove_member(group=group, by=facilitator, membership_id=target.pk)
    assert not Membership.objects.filter(pk=target.pk).exists()
    mine = Membership.objects.get(group=group, user=facilitator)
    with pytest.raises(ValidationError):
        services.remove_member(group=group, by=facilitator, membership_id=mine.pk)


def test_withdrawing_a_request(group, stranger):
    services.request_to_join(group=group, user=stranger)
    services.withdraw_request(group=group, user=stranger)
    assert JoinRequest.objects.get().status == "withdrawn"
    services.request_to_join(group=group, user=stranger)  # may ask again later
    with pytest.raises(ValidationError):
        services.withdraw_request(group=group, user=UserFactory())
