"""Every safety URL with every role (the site matrix skips the safety
namespace and defers to this file)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver

from groups.models import Visibility
from safety import services
from safety.models import CareResource, HeldMessage, Report, SafetyAlert
from tests.factories import (
    MeetingFactory,
    MembershipFactory,
    SupportGroupFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
ROLES = ("anonymous", "stranger", "member", "cofacilitator", "facilitator", "staff")
LOGIN = 302


@dataclass
class World:
    group: Any
    people: dict[str, Any]
    held: HeldMessage
    report: Report
    alert: SafetyAlert
    pin: Any
    resource: CareResource


def _world(visibility: str) -> World:
    group = SupportGroupFactory(visibility=visibility)
    people: dict[str, Any] = {"anonymous": None, "stranger": UserFactory()}
    for role in ("member", "cofacilitator", "facilitator"):
        people[role] = MembershipFactory(group=group, role=role).user
    people["staff"] = UserFactory(is_staff=True, is_superuser=True)
    author = MembershipFactory(group=group).user
    meeting = MeetingFactory(group=group)
    held = services.hold_message(
        group=group, author=author, text="held text", tier="method", meeting=meeting
    )
    report = services.report_message(
        reporter=people["member"],
        group=group,
        event_id=7,
        reason="harassment",
        author=author,
    ).report
    alert = services.alert_facilitators(
        group=group, subject=author, tier="concern", facilitators_connected=True
    )
    resource = CareResource.objects.create(
        name="Line", slug=f"line-{group.pk}", kind="crisis_line", phone="116 123"
    )
    pin = services.pin_resource(
        group=group, by=people["facilitator"], resource_id=resource.pk
    )
    return World(group, people, held, report, alert, pin, resource)


def _client(world: World, role: str) -> Client:
    client = Client()
    if world.people[role]:
        client.force_login(world.people[role])
    return client


def _by(**codes: int) -> dict[str, int]:
    return {r: codes[r] for r in ROLES}


EVERYONE = _by(
    anonymous=200,
    stranger=200,
    member=200,
    cofacilitator=200,
    facilitator=200,
    staff=200,
)
LOGGED_IN = {**EVERYONE, "anonymous": LOGIN}
QUEUE = _by(
    anonymous=LOGIN,
    stranger=403,
    member=403,
    cofacilitator=200,
    facilitator=200,
    staff=200,
)
POST_ONLY = {**LOGGED_IN, **{r: 405 for r in ROLES if r != "anonymous"}}
FACILITATING = _by(
    anonymous=LOGIN,
    stranger=403,
    member=403,
    cofacilitator=200,
    facilitator=200,
    staff=403,
)
MEMBERS = _by(
    anonymous=LOGIN,
    stranger=403,
    member=200,
    cofacilitator=200,
    facilitator=200,
    staff=403,
)


def _hidden(codes: dict[str, int]) -> dict[str, int]:
    return {
        **codes,
        "stranger": 404 if codes["stranger"] in (403, 200) else codes["stranger"],
    }


# name -> (path, public-group expectations, invite-only-group expectations)
MATRIX: dict[str, tuple[Callable[[World], str], dict[str, int], dict[str, int]]] = {
    "safety:support": (lambda w: "/support/", EVERYONE, EVERYONE),
    "safety:my_reports": (lambda w: "/support/reports/", LOGGED_IN, LOGGED_IN),
    # A GET shows the crisis card to anyone and tells no one (test_not_safe_view).
    "safety:not_safe": (lambda w: "/support/not-safe/", EVERYONE, EVERYONE),
    "safety:queue": (lambda w: "/moderation/", QUEUE, QUEUE),
    "safety:decide_held": (
        lambda w: f"/moderation/held/{w.held.pk}/approve/",
        POST_ONLY,
        POST_ONLY,
    ),
    "safety:resolve_report": (
        lambda w: f"/moderation/reports/{w.report.pk}/resolve/",
        POST_ONLY,
        POST_ONLY,
    ),
    "safety:acknowledge_alert": (
        lambda w: f"/moderation/alerts/{w.alert.pk}/acknowledge/",
        POST_ONLY,
        POST_ONLY,
    ),
    "safety:group_support": (
        lambda w: f"/groups/{w.group.slug}/support/",
        FACILITATING,
        _hidden(FACILITATING),
    ),
    "safety:pin": (
        lambda w: f"/groups/{w.group.slug}/support/pin/",
        POST_ONLY,
        POST_ONLY,
    ),
    "safety:unpin": (
        lambda w: f"/groups/{w.group.slug}/support/pins/{w.pin.pk}/unpin/",
        POST_ONLY,
        POST_ONLY,
    ),
    "safety:policy": (
        lambda w: f"/groups/{w.group.slug}/support/policy/",
        POST_ONLY,
        POST_ONLY,
    ),
    "safety:accept_guidelines": (
        lambda w: f"/groups/{w.group.slug}/guidelines/accept/",
        MEMBERS,
        _hidden(MEMBERS),
    ),
}


def test_every_safety_url_has_a_row() -> None:
    resolver = get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        if getattr(pattern, "namespace", None) == "safety":
            names |= {
                f"safety:{p.name}"
                for p in pattern.url_patterns
                if isinstance(p, URLPattern)
            }
    assert names == set(MATRIX)


@pytest.mark.parametrize("visibility", [Visibility.PUBLIC, Visibility.INVITE])
@pytest.mark.parametrize("role", ROLES)
def test_get_every_safety_url_with_every_role(visibility: str, role: str) -> None:
    world = _world(visibility)
    client = _client(world, role)
    wrong = {}
    for name, (build, public, hidden) in MATRIX.items():
        expected = (public if visibility == Visibility.PUBLIC else hidden)[role]
        status = client.get(build(world)).status_code
        if status != expected:
            wrong[name] = (expected, status)
    assert not wrong, f"{role} / {visibility}: {wrong}"


def _posts(w: World) -> list[tuple[str, dict[str, str], Callable[[], Any], set[str]]]:
    """(path, data, observe, roles allowed)."""
    moderators = {"cofacilitator", "facilitator", "staff"}
    facilitating = {"cofacilitator", "facilitator"}
    return [
        (
            f"/moderation/held/{w.held.pk}/reject/",
            {},
            lambda: HeldMessage.objects.get(pk=w.held.pk).status,
            moderators,
        ),
        (
            f"/moderation/reports/{w.report.pk}/resolve/",
            {"outcome": "no_action"},
            lambda: Report.objects.get(pk=w.report.pk).status,
            moderators,
        ),
        (
            f"/moderation/alerts/{w.alert.pk}/acknowledge/",
            {},
            lambda: SafetyAlert.objects.get(pk=w.alert.pk).acknowledged_at,
            moderators,
        ),
        (
            f"/groups/{w.group.slug}/support/pins/{w.pin.pk}/unpin/",
            {},
            lambda: type(w.pin).objects.filter(pk=w.pin.pk).exists(),
            facilitating,
        ),
        (
            f"/groups/{w.group.slug}/support/policy/",
            {"concern_action": "hold"},
            lambda: (
                getattr(type(w.group).objects.get(pk=w.group.pk), "safety_policy", None)
                is not None
            ),
            {"facilitator"},
        ),
    ]


@pytest.mark.parametrize("visibility", [Visibility.PUBLIC, Visibility.INVITE])
@pytest.mark.parametrize("role", ROLES)
def test_posts_by_role(visibility: str, role: str) -> None:
    for index in range(5):
        world = _world(visibility)
        client = _client(world, role)
        path, data, observe, allowed = _posts(world)[index]
        before = observe()
        response = client.post(path, data)
        if role in allowed:
            assert response.status_code == 302, path
            assert observe() != before, path
            continue
        assert observe() == before, (role, path)
        if role == "anonymous":
            assert response.status_code == LOGIN
        elif path.startswith("/moderation/"):
            assert response.status_code == 404, (role, path)
        else:
            hidden = visibility == Visibility.INVITE and role == "stranger"
            assert response.status_code == (404 if hidden else 403), (role, path)


def test_facilitator_of_another_group_cannot_act() -> None:
    world = _world(Visibility.PUBLIC)
    other = MembershipFactory(role="facilitator").user
    client = Client()
    client.force_login(other)
    assert client.post(f"/moderation/held/{world.held.pk}/approve/").status_code == 404
    assert (
        client.post(
            f"/moderation/reports/{world.report.pk}/resolve/", {"outcome": "hidden"}
        ).status_code
        == 404
    )
    assert (
        client.post(f"/moderation/alerts/{world.alert.pk}/acknowledge/").status_code
        == 404
    )
    page = client.get("/moderation/").content.decode()
    assert "held text" not in page
    assert client.get(f"/moderation/?group={world.group.slug}").status_code == 404
    assert HeldMessage.objects.get(pk=world.held.pk).is_pending


@pytest.mark.parametrize(
    "path",
    [
        "/moderation/held/999999/approve/",
        "/moderation/held/1/explode/",
        "/moderation/reports/999999/resolve/",
        "/moderation/alerts/999999/acknowledge/",
    ],
)
def test_missing_items_are_404_not_500(path: str) -> None:
    staff = UserFactory(is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.post(path, {"outcome": "nonsense"}).status_code == 404


def test_bad_input_is_never_a_500() -> None:
    world = _world(Visibility.PUBLIC)
    fac = _client(world, "facilitator")
    assert (
        fac.post(
            f"/moderation/reports/{world.report.pk}/resolve/", {"outcome": "x" * 5000}
        ).status_code
        == 302
    )
    assert (
        fac.post(
            f"/groups/{world.group.slug}/support/pin/", {"resource": "abc"}
        ).status_code
        == 302
    )
    assert (
        fac.post(
            f"/groups/{world.group.slug}/support/policy/", {"concern_action": "?"}
        ).status_code
        == 302
    )
    assert fac.get("/support/?country=%00%FF").status_code == 200
    assert fac.get("/support/?country=" + "Z" * 5000).status_code == 200
    assert fac.get("/moderation/?group=" + "x" * 5000).status_code == 404
    member = _client(world, "member")
    url = f"/groups/{world.group.slug}/guidelines/accept/"
    assert member.post(url, {"version": "-1"}).status_code == 200
    assert member.post(url, {"version": "99999999999999999999"}).status_code == 200


def test_state_changing_urls_need_csrf() -> None:
    world = _world(Visibility.PUBLIC)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.people["facilitator"])
    assert client.post(f"/moderation/held/{world.held.pk}/reject/").status_code == 403
    assert HeldMessage.objects.get(pk=world.held.pk).is_pending
