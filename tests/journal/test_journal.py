"""Reflections: private by default, shared and withdrawn by their author,
seen by facilitators of that group only; prompts, ratings, the mood chart,
screening; and who may reach each page (IDOR answers 404)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from facilitation.models import CheckIn, LiveRoom, RoomEvent
from journal import services
from journal.models import Reflection, Sharing
from prompts.models import (
    PlanAssignment,
    PlanItem,
    Prompt,
    PromptRating,
    PromptVersion,
    SessionPlan,
)
from tests.factories import MeetingFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
LOGIN = 302


@pytest.fixture
def past(group: Any) -> Any:
    return MeetingFactory(group=group, starts_at=timezone.now() - dt.timedelta(hours=2))


def _client(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _version(title: str, kind: str) -> PromptVersion:
    prompt = Prompt.objects.create(slug=title.lower().replace(" ", "-"))
    return PromptVersion.objects.create(
        prompt=prompt,
        number=1,
        title=title,
        text=f"{title} text",
        kind=kind,
        status="published",
    )


def test_prompts_come_from_the_plan_then_defaults(past: Any, group: Any) -> None:
    assert [p.title for p in services.reflection_prompts(past)] == [
        "What stayed with you",
        "A small kindness",
    ]
    plan = SessionPlan.objects.create(title="Plan", group=group)
    versions = [
        _version("Opening", "opening"),
        _version("Looking back", "reflection"),
        _version("Carry forward", "reflection"),
        _version("One word", "reflection"),
        _version("Thanks", "reflection"),
        _version("Extra", "reflection"),
    ]
    for position, version in enumerate(versions):
        PlanItem.objects.create(
            plan=plan, position=position, version=version, minutes=5
        )
    PlanAssignment.objects.create(plan=plan, meeting=past)
    titles = [p.title for p in services.reflection_prompts(past)]
    assert titles == ["Looking back", "Carry forward", "One word", "Thanks"]
    plan.items.exclude(version__title="Looking back").delete()
    titles = [p.title for p in services.reflection_prompts(past)]
    assert titles == ["Looking back", "What stayed with you"]


def test_private_by_default_then_shared_and_withdrawn(past: Any, member: Any) -> None:
    reflection = services.save_reflection(
        user=member, meeting=past, answers=["It helped to hear others", ""]
    )
    assert reflection.sharing == Sharing.PRIVATE
    assert not Reflection.objects.shared().exists()
    services.set_sharing(user=member, pk=reflection.pk, sharing=Sharing.ANONYMOUS)
    rows = services.shared_with_facilitators(past.group)
    assert [r["author"] for r in rows] == ["A member (anonymous)"]
    services.set_sharing(user=member, pk=reflection.pk, sharing=Sharing.NAMED)
    assert (
        services.shared_with_facilitators(past.group)[0]["author"]
        == member.display_name
    )
    services.set_sharing(user=member, pk=reflection.pk, sharing=Sharing.PRIVATE)
    assert services.shared_with_facilitators(past.group) == []


def test_ratings_feed_the_prompt_library(past: Any, member: Any, group: Any) -> None:
    used = _version("Asking for help", "discussion")
    unused = _version("Not shown", "discussion")
    room = LiveRoom.objects.create(
        meeting=past,
        plan=[
            {"index": 0, "version_id": used.pk, "title": used.title},
            {"index": 1, "version_id": unused.pk, "title": unused.title},
        ],
        ended_at=timezone.now(),
    )
    RoomEvent.objects.create(room=room, seq=1, kind="prompt.shown", data={"index": 0})
    assert services.prompts_to_rate(past) == [used]
    services.save_reflection(
        user=member, meeting=past, answers=[], ratings={used.pk: 4, unused.pk: 1}
    )
    assert list(PromptRating.objects.values_list("version_id", "score")) == [
        (used.pk, 4)
    ]
    services.save_reflection(
        user=member, meeting=past, answers=[], ratings={used.pk: 5}
    )
    assert list(PromptRating.objects.values_list("score", flat=True)) == [5]


def test_a_reflection_with_concern_points_its_author_to_support(
    past: Any, member: Any
) -> None:
    from safety.models import SafetyAlert

    response = _client(member).post(
        f"/journal/sessions/{past.pk}/",
        {
            "answer_0": "I feel like such a burden and I don't see the point anymore",
            "answer_1": "",
            "sharing": "private",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/support/"
    assert Reflection.objects.get().screening_tier == "concern"
    # Concern in a private reflection stays private: no alert to anyone.
    assert not SafetyAlert.objects.exists()


def test_imminent_risk_in_a_reflection_alerts_the_facilitators_at_once(
    past: Any, member: Any, mailoutbox: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from safety.models import SafetyAlert

    MembershipFactory(group=past.group, role="facilitator")
    with django_capture_on_commit_callbacks(execute=True):
        services.save_reflection(
            user=member,
            meeting=past,
            answers=["I have the pills and I'm doing it tonight", ""],
        )
    reflection = Reflection.objects.get()
    assert reflection.screening_tier == "imminent"
    assert reflection.sharing == "private"
    alert = SafetyAlert.objects.get()
    assert (alert.tier, alert.source, alert.subject_id) == (
        "imminent",
        "reflection",
        member.pk,
    )
    assert mailoutbox, "the facilitators are emailed at once"
    assert all("pills" not in m.body for m in mailoutbox)


def test_mood_chart_is_svg_with_a_table(past: Any, member: Any) -> None:
    room = LiveRoom.objects.create(meeting=past)
    CheckIn.objects.create(room=room, user=member, phase="in", score=2)
    CheckIn.objects.create(room=room, user=member, phase="out", score=4)
    other = MeetingFactory(
        group=past.group, starts_at=past.starts_at - dt.timedelta(days=7)
    )
    CheckIn.objects.create(
        room=LiveRoom.objects.create(meeting=other), user=member, phase="in", score=3
    )
    page = _client(member).get("/journal/").content.decode()
    assert '<svg viewBox="0 0 640 220"' in page and 'role="img"' in page
    assert "<table>" in page and "<td>2</td><td>4</td>" in page.replace("\n", "")
    assert "style=" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_reflect_page_saves_and_lists_only_my_own(
    past: Any, member: Any, group: Any
) -> None:
    other = MembershipFactory(group=group).user
    services.save_reflection(user=other, meeting=past, answers=["theirs"])
    client = _client(member)
    response = client.post(
        f"/journal/sessions/{past.pk}/",
        {"answer_0": "mine", "answer_1": "", "sharing": "named"},
    )
    mine = Reflection.objects.get(author=member)
    assert response["Location"] == f"/journal/{mine.pk}/"
    assert mine.sharing == Sharing.NAMED and mine.shared_at is not None
    page = client.get("/journal/").content.decode()
    assert f"/journal/{mine.pk}/" in page
    theirs = Reflection.objects.get(author=other)
    assert f"/journal/{theirs.pk}/" not in page


def test_not_before_the_session(group: Any, member: Any) -> None:
    future = MeetingFactory(group=group)
    response = _client(member).get(f"/journal/sessions/{future.pk}/")
    assert b"once it has taken place" in response.content
    assert (
        _client(member)
        .post(
            f"/journal/sessions/{future.pk}/", {"answer_0": "x", "sharing": "private"}
        )
        .status_code
        == 200
    )
    assert not Reflection.objects.exists()


# --- Access matrix -------------------------------------------------------------
ROLES = (
    "anonymous",
    "stranger",
    "member",
    "other_member",
    "cofacilitator",
    "facilitator",
    "staff",
)


@pytest.fixture
def world(group: Any, past: Any) -> dict[str, Any]:
    people: dict[str, Any] = {"anonymous": None, "stranger": UserFactory()}
    for role in ("member", "other_member", "cofacilitator", "facilitator"):
        people[role] = MembershipFactory(
            group=group, role="member" if "member" in role else role
        ).user
    people["staff"] = UserFactory(is_staff=True, is_superuser=True)
    reflection = services.save_reflection(
        user=people["member"],
        meeting=past,
        answers=["only mine"],
        sharing=Sharing.NAMED,
    )
    return {"people": people, "reflection": reflection, "meeting": past, "group": group}


def _expected(path_kind: str, role: str) -> int:
    if role == "anonymous":
        return LOGIN
    table = {
        "index": dict.fromkeys(ROLES, 200),
        "reflect": {"stranger": 404, "staff": 404},
        "detail": {"member": 200},
        "shared": {"cofacilitator": 200, "facilitator": 200},
    }[path_kind]
    default = 200 if path_kind in ("index", "reflect") else 404
    return table.get(role, default)


@pytest.mark.parametrize("role", ROLES)
def test_get_access_matrix(world: dict[str, Any], role: str) -> None:
    client = _client(world["people"][role])
    paths = {
        "index": "/journal/",
        "reflect": f"/journal/sessions/{world['meeting'].pk}/",
        "detail": f"/journal/{world['reflection'].pk}/",
        "shared": f"/journal/groups/{world['group'].slug}/shared/",
    }
    wrong = {}
    for kind, path in paths.items():
        status = client.get(path).status_code
        if status != _expected(kind, role):
            wrong[kind] = (status, _expected(kind, role))
    assert not wrong, wrong


@pytest.mark.parametrize("role", [r for r in ROLES if r != "member"])
def test_nobody_else_can_change_or_read_a_reflection(
    world: dict[str, Any], role: str
) -> None:
    reflection = world["reflection"]
    client = _client(world["people"][role])
    for path, data in (
        (f"/journal/{reflection.pk}/sharing/", {"sharing": "private"}),
        (f"/journal/{reflection.pk}/delete/", {}),
    ):
        status = client.post(path, data).status_code
        assert status == (LOGIN if role == "anonymous" else 404), (path, status)
    reflection.refresh_from_db()
    assert reflection.sharing == Sharing.NAMED


def test_shared_page_shows_the_words_only_to_that_groups_facilitators(
    world: dict[str, Any],
) -> None:
    path = f"/journal/groups/{world['group'].slug}/shared/"
    assert b"only mine" in _client(world["people"]["facilitator"]).get(path).content
    elsewhere = MembershipFactory(role="facilitator").user
    assert _client(elsewhere).get(path).status_code == 404


def test_withdrawn_reflection_leaves_the_facilitators_page(
    world: dict[str, Any],
) -> None:
    member = _client(world["people"]["member"])
    member.post(f"/journal/{world['reflection'].pk}/sharing/", {"sharing": "private"})
    path = f"/journal/groups/{world['group'].slug}/shared/"
    assert b"only mine" not in _client(world["people"]["facilitator"]).get(path).content
