"""Every URL pattern of the site, walked with every role.

Non-members see nothing of an invite-only group (404, the same answer as a
group that does not exist); people who can see a group but lack the role
get 403; anonymous visitors are sent to log in where an account is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group as AuthGroup
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from groups import ics, services
from groups.models import RSVP, Invitation, JoinRequest, Membership, Visibility
from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    SupportGroupFactory,
    UserFactory,
)

ROLES = ("anonymous", "stranger", "member", "cofacilitator", "facilitator", "staff")
pytestmark = pytest.mark.django_db


@dataclass
class World:
    group: Any
    meeting: Any
    people: dict[str, Any]
    token: str
    request: Any
    membership: Any
    invitation: Any


def _world(visibility: str) -> World:
    group = SupportGroupFactory(visibility=visibility)
    people: dict[str, Any] = {"anonymous": None, "stranger": UserFactory()}
    for role in ("member", "cofacilitator", "facilitator"):
        people[role] = MembershipFactory(group=group, role=role).user
    people["staff"] = UserFactory(is_staff=True, is_superuser=True)
    AuthGroup.objects.get(name="Facilitators").user_set.add(people["facilitator"])
    meeting = MeetingFactory(group=group)
    invitation, token = services.create_invitation(
        group=group, by=people["facilitator"], max_uses=None
    )
    applicant = UserFactory()
    request = JoinRequest.objects.create(group=group, user=applicant)
    membership = Membership.objects.get(group=group, user=people["member"])
    return World(group, meeting, people, token, request, membership, invitation)


def _client(world: World, role: str) -> Client:
    client = Client()
    if world.people[role] is not None:
        client.force_login(world.people[role])
    return client


LOGIN = 302
# url name -> (path builder, GET status by role for a PUBLIC group,
#              GET status by role for an INVITE-ONLY group)
Row = tuple[Callable[[World], str], dict[str, int], dict[str, int]]


def _same(status: int, anonymous: int = LOGIN) -> dict[str, int]:
    return {r: (anonymous if r == "anonymous" else status) for r in ROLES}


def _by(**statuses: int) -> dict[str, int]:
    return {r: statuses[r] for r in ROLES}


LEAD_ONLY = _by(
    anonymous=LOGIN,
    stranger=403,
    member=403,
    cofacilitator=403,
    facilitator=200,
    staff=403,
)
LEAD_ONLY_HIDDEN = {**LEAD_ONLY, "stranger": 404}
FACILITATING = _by(
    anonymous=LOGIN,
    stranger=403,
    member=403,
    cofacilitator=200,
    facilitator=200,
    staff=403,
)
FACILITATING_HIDDEN = {**FACILITATING, "stranger": 404}
MEMBERS = _by(
    anonymous=LOGIN,
    stranger=403,
    member=200,
    cofacilitator=200,
    facilitator=200,
    staff=403,
)
MEMBERS_HIDDEN = {**MEMBERS, "stranger": 404}
EVERYONE = _same(200, anonymous=200)
HIDDEN = {**EVERYONE, "anonymous": 404, "stranger": 404}
POST_ONLY = _same(405)
POST_ONLY_HIDDEN = {**POST_ONLY, "stranger": 404}
LOGGED_IN = _same(200)

GET_MATRIX: dict[str, Row] = {
    "home": (lambda w: "/", EVERYONE, EVERYONE),
    # Care resources are for everyone, always.
    "safety:support": (lambda w: "/support/", EVERYONE, EVERYONE),
    "profile": (lambda w: "/me/profile/", LOGGED_IN, LOGGED_IN),
    "groups:directory": (lambda w: "/groups/", EVERYONE, EVERYONE),
    "groups:create": (
        lambda w: "/groups/new/",
        _by(
            anonymous=LOGIN,
            stranger=403,
            member=403,
            cofacilitator=403,
            facilitator=200,
            staff=200,
        ),
        _by(
            anonymous=LOGIN,
            stranger=403,
            member=403,
            cofacilitator=403,
            facilitator=200,
            staff=200,
        ),
    ),
    "groups:detail": (lambda w: f"/groups/{w.group.slug}/", EVERYONE, HIDDEN),
    "groups:edit": (
        lambda w: f"/groups/{w.group.slug}/edit/",
        LEAD_ONLY,
        LEAD_ONLY_HIDDEN,
    ),
    "groups:join": (
        lambda w: f"/groups/{w.group.slug}/join/",
        LOGGED_IN,
        {**LOGGED_IN, "stranger": 404},
    ),
    "groups:withdraw": (
        lambda w: f"/groups/{w.group.slug}/join/withdraw/",
        POST_ONLY,
        POST_ONLY,
    ),
    "groups:leave": (
        lambda w: f"/groups/{w.group.slug}/leave/",
        MEMBERS,
        MEMBERS_HIDDEN,
    ),
    "groups:my_name": (
        lambda w: f"/groups/{w.group.slug}/me/",
        MEMBERS,
        MEMBERS_HIDDEN,
    ),
    "groups:members": (
        lambda w: f"/groups/{w.group.slug}/members/",
        FACILITATING,
        FACILITATING_HIDDEN,
    ),
    "groups:decide": (
        lambda w: f"/groups/{w.group.slug}/requests/{w.request.pk}/approve/",
        POST_ONLY,
        POST_ONLY,
    ),
    "groups:role": (
        lambda w: f"/groups/{w.group.slug}/members/{w.membership.pk}/role/",
        POST_ONLY,
        POST_ONLY,
    ),
    "groups:remove": (
        lambda w: f"/groups/{w.group.slug}/members/{w.membership.pk}/remove/",
        POST_ONLY,
        POST_ONLY,
    ),
    "groups:invite": (
        lambda w: f"/groups/{w.group.slug}/invitations/",
        POST_ONLY,
        POST_ONLY,
    ),
    "groups:revoke": (
        lambda w: f"/groups/{w.group.slug}/invitations/{w.invitation.pk}/revoke/",
        POST_ONLY,
        POST_ONLY,
    ),
    "groups:new_meeting": (
        lambda w: f"/groups/{w.group.slug}/sessions/new/",
        FACILITATING,
        FACILITATING_HIDDEN,
    ),
    "groups:new_series": (
        lambda w: f"/groups/{w.group.slug}/series/new/",
        FACILITATING,
        FACILITATING_HIDDEN,
    ),
    # The link itself is the permission: anyone holding it sees the group.
    "groups:invitation": (lambda w: f"/invite/{w.token}/", EVERYONE, EVERYONE),
    "groups:meeting": (lambda w: f"/sessions/{w.meeting.pk}/", EVERYONE, HIDDEN),
    "groups:meeting_edit": (
        lambda w: f"/sessions/{w.meeting.pk}/edit/",
        FACILITATING,
        FACILITATING_HIDDEN,
    ),
    "groups:meeting_cancel": (
        lambda w: f"/sessions/{w.meeting.pk}/cancel/",
        POST_ONLY,
        POST_ONLY,
    ),
    "groups:rsvp": (lambda w: f"/sessions/{w.meeting.pk}/rsvp/", POST_ONLY, POST_ONLY),
    "groups:meeting_ics": (
        lambda w: f"/sessions/{w.meeting.pk}/calendar.ics",
        EVERYONE,
        HIDDEN,
    ),
    "groups:mine": (lambda w: "/me/groups/", LOGGED_IN, LOGGED_IN),
    "groups:schedule": (lambda w: "/me/schedule/", LOGGED_IN, LOGGED_IN),
    "groups:calendar": (lambda w: "/me/calendar/", LOGGED_IN, LOGGED_IN),
    # The private feed answers to its token, never to a session cookie.
    "groups:feed": (
        lambda w: f"/calendar/{ics.feed_token(w.people['member'])}.ics",
        EVERYONE,
        EVERYONE,
    ),
}


def _route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                namespace = pattern.namespace
                # Admin and allauth are tested upstream; prompts and rooms
                # and safety have their own (tests/prompts, tests/facilitation,
                # tests/safety), as do reminders and the journal
                # (tests/reminders, tests/journal).
                if namespace in (
                    "admin",
                    "prompts",
                    "facilitation",
                    "safety",
                    "reminders",
                    "journal",
                ) or "allauth" in str(pattern.urlconf_name):
                    continue
                walk(
                    pattern.url_patterns,
                    f"{prefix}{namespace}:" if namespace else prefix,
                )
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(prefix + pattern.name)

    walk(get_resolver().url_patterns, "")
    return names


def test_the_matrix_covers_every_url_pattern_of_the_site() -> None:
    known = set(GET_MATRIX) | {"healthz"}
    missing = _route_names() - known
    assert not missing, f"URL patterns without an access rule: {sorted(missing)}"


@pytest.mark.parametrize("visibility", [Visibility.PUBLIC, Visibility.INVITE])
@pytest.mark.parametrize("role", ROLES)
def test_get_every_url_with_every_role(visibility: str, role: str) -> None:
    world = _world(visibility)
    client = _client(world, role)
    wrong = {}
    for name, (build, public, hidden) in GET_MATRIX.items():
        expected = (public if visibility == Visibility.PUBLIC else hidden)[role]
        path = build(world)
        status = client.get(path).status_code
        if status != expected:
            wrong[name] = (path, expected, status)
    assert not wrong, f"{role} on a {visibility} group: {wrong}"


def test_hidden_group_answers_exactly_like_a_missing_one() -> None:
    world = _world(Visibility.INVITE)
    client = _client(world, "stranger")
    real = client.get(f"/groups/{world.group.slug}/")
    missing = client.get("/groups/no-such-group-anywhere/")
    assert real.status_code == missing.status_code == 404
    assert world.group.name not in real.content.decode()
    assert real.content == missing.content


# POST endpoints: who may change what, and that a refusal changes nothing.
def _post_cases(world: World) -> list[tuple[str, dict[str, str], Callable[[], Any]]]:
    return [
        (
            f"/groups/{world.group.slug}/requests/{world.request.pk}/approve/",
            {},
            lambda: JoinRequest.objects.get(pk=world.request.pk).status,
        ),
        (
            f"/groups/{world.group.slug}/members/{world.membership.pk}/role/",
            {"role": "facilitator"},
            lambda: Membership.objects.get(pk=world.membership.pk).role,
        ),
        (
            f"/groups/{world.group.slug}/members/{world.membership.pk}/remove/",
            {},
            lambda: Membership.objects.filter(pk=world.membership.pk).exists(),
        ),
        (
            f"/groups/{world.group.slug}/invitations/",
            {"days": "7", "max_uses": "1"},
            lambda: Invitation.objects.count(),
        ),
        (
            f"/groups/{world.group.slug}/invitations/{world.invitation.pk}/revoke/",
            {},
            lambda: Invitation.objects.get(pk=world.invitation.pk).revoked_at,
        ),
        (
            f"/sessions/{world.meeting.pk}/cancel/",
            {},
            lambda: type(world.meeting).objects.get(pk=world.meeting.pk).status,
        ),
    ]


# Who may use each POST endpoint above (same order): the rest must be refused.
ALLOWED = [
    {"cofacilitator", "facilitator"},
    {"facilitator"},
    {"facilitator"},
    {"facilitator"},
    {"facilitator"},
    {"cofacilitator", "facilitator"},
]


@pytest.mark.parametrize("visibility", [Visibility.PUBLIC, Visibility.INVITE])
@pytest.mark.parametrize("role", ["anonymous", "stranger", "member", "staff"])
def test_refused_posts_change_nothing(visibility: str, role: str) -> None:
    world = _world(visibility)
    client = _client(world, role)
    for (path, data, observe), allowed in zip(_post_cases(world), ALLOWED, strict=True):
        assert role not in allowed
        before = observe()
        response = client.post(path, data)
        hidden = visibility == Visibility.INVITE and role in ("anonymous", "stranger")
        if role == "anonymous":
            assert response.status_code == LOGIN, path
            assert "/accounts/login/" in response["Location"]
        else:
            assert response.status_code == (404 if hidden else 403), path
        assert observe() == before, path


@pytest.mark.parametrize("role", ["cofacilitator", "facilitator"])
def test_allowed_posts_take_effect(role: str) -> None:
    world = _world(Visibility.INVITE)
    client = _client(world, role)
    for (path, data, observe), allowed in zip(_post_cases(world), ALLOWED, strict=True):
        before = observe()
        response = client.post(path, data)
        if role in allowed:
            assert response.status_code == 302, path
            assert observe() != before, path
        else:
            assert response.status_code == 403, path
            assert observe() == before, path


def test_rsvp_and_join_posts(db: None) -> None:
    world = _world(Visibility.PUBLIC)
    stranger = _client(world, "stranger")
    assert (
        stranger.post(
            f"/sessions/{world.meeting.pk}/rsvp/", {"answer": "going"}
        ).status_code
        == 403
    )
    assert not RSVP.objects.exists()
    member = _client(world, "member")
    assert (
        member.post(
            f"/sessions/{world.meeting.pk}/rsvp/", {"answer": "maybe"}
        ).status_code
        == 302
    )
    assert not RSVP.objects.exists()
    assert (
        member.post(
            f"/sessions/{world.meeting.pk}/rsvp/", {"answer": "going"}
        ).status_code
        == 302
    )
    assert RSVP.objects.get().status == "going"
    hidden = _world(Visibility.INVITE)
    outsider = _client(hidden, "stranger")
    assert (
        outsider.post(
            f"/groups/{hidden.group.slug}/join/", {"message": "hi"}
        ).status_code
        == 404
    )
    assert (
        outsider.post(
            f"/sessions/{hidden.meeting.pk}/rsvp/", {"answer": "going"}
        ).status_code
        == 404
    )
    assert (
        not JoinRequest.objects.filter(group=hidden.group)
        .exclude(pk=hidden.request.pk)
        .exists()
    )


def test_state_changing_urls_refuse_get_and_need_csrf(db: None) -> None:
    world = _world(Visibility.PUBLIC)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.people["facilitator"])
    response = client.post(f"/sessions/{world.meeting.pk}/cancel/")
    assert response.status_code == 403
    world.meeting.refresh_from_db()
    assert not world.meeting.is_cancelled


def test_admin_is_for_staff_only(db: None) -> None:
    world = _world(Visibility.PUBLIC)
    for role in ("stranger", "member", "facilitator"):
        response = _client(world, role).get("/admin/")
        assert response.status_code == 302
        assert "login" in response["Location"]
    assert _client(world, "staff").get("/admin/").status_code == 200
