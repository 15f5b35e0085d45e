from __future__ import annotations

import pytest
from django.test import Client

from prompts.models import (
    PlanAssignment,
    Prompt,
    PromptRating,
    PromptVersion,
    SessionPlan,
    Theme,
)
from prompts.services import plans as plan_service
from prompts.services import workflow
from prompts.starter import load_starter_library
from tests.factories import MeetingFactory
from tests.prompts.factories import PlanItemFactory, SessionPlanFactory, published

Status = PromptVersion.Status
HOSTILE = (
    '<script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3))'
)


def prompt_form(**overrides: object) -> dict:
    data = {
        "title": "When asking feels hard",
        "text": "What makes asking hard *right now*? You may pass.",
        "kind": "discussion",
        "themes": [Theme.objects.get(slug="asking-for-help").pk],
        "intensity": "gentle",
        "content_note": "",
        "suggested_minutes": "12",
        "follow_up_questions": "Who feels safest to ask?\n\n",
        "language": "en",
    }
    data.update(overrides)
    return data


def test_facilitator_builds_a_plan_from_the_starter_library_and_attaches_it(
    client: Client, facilitator, group
) -> None:
    load_starter_library()
    meeting = MeetingFactory(group=group, duration_minutes=60)
    client.force_login(facilitator)
    starter = SessionPlan.objects.get(title="Carrying it all alone")
    response = client.post(f"/prompts/plans/{starter.pk}/duplicate/")
    copy = SessionPlan.objects.get(owner=facilitator)
    assert response["Location"] == f"/prompts/plans/{copy.pk}/"

    # Add one more prompt from the library, found by search.
    page = client.get(f"/prompts/?plan={copy.pk}&q=permission+slip").content.decode()
    assert "Add to “Carrying it all alone (copy)”" in page
    slip = PromptVersion.objects.published().get(prompt__slug="a-permission-slip")
    client.post(f"/prompts/plans/{copy.pk}/items/", {"version": slip.pk})
    assert copy.items.count() == starter.items.count() + 1

    response = client.post(
        f"/prompts/plans/{copy.pk}/attach/", {"meeting": meeting.pk}, follow=True
    )
    assert PlanAssignment.objects.get(meeting=meeting).plan == copy
    assert plan_service.plan_for_meeting(meeting=meeting) == copy
    page = response.content.decode()
    assert "Plan attached." in page
    assert "runs 4 minutes over" in page  # 58 + 6 = 64 of 60 minutes


def test_curator_publishes_a_newly_submitted_prompt_in_the_browser(
    client: Client, facilitator, curator
) -> None:
    client.force_login(facilitator)
    response = client.post("/prompts/new/", prompt_form())
    prompt = Prompt.objects.get(author=facilitator)
    assert response["Location"] == f"/prompts/{prompt.pk}/"
    client.post(f"/prompts/{prompt.pk}/submit/")
    client.force_login(curator)
    assert "When asking feels hard" in client.get("/prompts/review/").content.decode()
    client.post(f"/prompts/{prompt.pk}/review/", {"decision": "publish", "comment": ""})
    version = prompt.versions.get()
    assert version.status == Status.PUBLISHED
    assert version.follow_up_questions == ["Who feels safest to ask?"]
    assert "When asking feels hard" in client.get("/prompts/").content.decode()


def test_asking_for_changes_needs_a_note_the_author_then_sees(
    client: Client, facilitator, curator
) -> None:
    version = workflow.create_prompt(
        by=facilitator,
        content=workflow.PromptContent(
            title="Draft",
            text="Any thoughts?",
            kind="opening",
            intensity="gentle",
            suggested_minutes=5,
        ),
    )
    workflow.submit_version(version=version, by=facilitator)
    client.force_login(curator)
    url = f"/prompts/{version.prompt_id}/review/"
    response = client.post(url, {"decision": "changes", "comment": ""})
    assert response.status_code == 200
    assert "Say what should change" in response.content.decode()
    client.post(url, {"decision": "changes", "comment": "Please add a way to pass."})
    client.force_login(facilitator)
    page = client.get(f"/prompts/{version.prompt_id}/").content.decode()
    assert "Please add a way to pass." in page and "Changes requested" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "This field is required."),
        ({"kind": "chat"}, "Select a valid choice."),
        ({"suggested_minutes": "500"}, "less than or equal to 90"),
        ({"suggested_minutes": "ten"}, "Enter a whole number."),
        (
            {"intensity": "deep", "content_note": ""},
            "A deep prompt needs a content note.",
        ),
        ({"language": "English!"}, "language tag"),
        ({"themes": ["999"]}, "Select a valid choice."),
        ({"follow_up_questions": "q\n" * 11}, "Up to 10"),
    ],
)
def test_bad_prompt_input_shows_a_clear_message(
    client: Client, facilitator, overrides: dict, message: str
) -> None:
    client.force_login(facilitator)
    response = client.post("/prompts/new/", prompt_form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Prompt.objects.exists()


def test_editing_a_published_prompt_in_the_browser_makes_a_new_version(
    client: Client, facilitator, curator
) -> None:
    version = workflow.create_prompt(
        by=facilitator,
        content=workflow.PromptContent(
            title="Original",
            text="Any thoughts?",
            kind="opening",
            intensity="gentle",
            suggested_minutes=5,
        ),
    )
    workflow.publish_version(version=version, by=curator)
    client.force_login(facilitator)
    assert (
        "saving makes a new draft version"
        in client.get(f"/prompts/{version.prompt_id}/edit/").content.decode()
    )
    response = client.post(
        f"/prompts/{version.prompt_id}/edit/",
        prompt_form(title="Reworded"),
        follow=True,
    )
    assert "A new draft version was made" in response.content.decode()
    assert list(version.prompt.versions.values_list("title", "status")) == [
        ("Reworded", "draft"),
        ("Original", "published"),
    ]


def test_hostile_prompt_text_is_inert_on_every_page(
    client: Client, facilitator, curator
) -> None:
    version = published(text=HOSTILE, title="Hostile")
    plan = SessionPlanFactory(owner=facilitator)
    PlanItemFactory(plan=plan, version=version)
    checks = [
        (facilitator, "/prompts/"),
        (facilitator, f"/prompts/{version.prompt_id}/"),
        (facilitator, f"/prompts/plans/{plan.pk}/"),
        (curator, f"/prompts/{version.prompt_id}/review/"),
    ]
    for user, url in checks:
        client.force_login(user)
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert 'href="javascript' not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_library_filters_and_shows_usage_and_rating(
    client: Client, facilitator, group, member
) -> None:
    trust = Theme.objects.get(slug="trust")
    wanted = published(title="Trusting slowly", kind="closing", themes=[trust])
    published(title="Something else", kind="opening")
    plan = SessionPlanFactory(owner=facilitator)
    PlanItemFactory(plan=plan, version=wanted)
    meeting = MeetingFactory(group=group)
    plan_service.attach_plan(plan=plan, by=facilitator, meeting=meeting)
    PromptRating.objects.create(member=member, version=wanted, meeting=meeting, score=4)
    client.force_login(facilitator)
    html = client.get("/prompts/?theme=trust&kind=closing&q=slowly").content.decode()
    assert "Trusting slowly" in html and "Something else" not in html
    assert "used in 1 session" in html
    assert "rated 4.0/5 as helpful by 1 member" in html


def test_plan_editing_survives_bad_input(client: Client, facilitator) -> None:
    plan = SessionPlanFactory(owner=facilitator)
    item = PlanItemFactory(plan=plan, minutes=10)
    draft = PromptVersion.objects.create(
        prompt=item.version.prompt, number=99, title="d", text="d", kind="opening"
    )
    client.force_login(facilitator)
    base = f"/prompts/plans/{plan.pk}"
    for url, data in [
        (f"{base}/items/{item.pk}/minutes/", {"minutes": "ten"}),
        (f"{base}/items/{item.pk}/minutes/", {"minutes": "0"}),
        (f"{base}/items/{item.pk}/move/", {"direction": "sideways"}),
        (f"{base}/items/", {"version": draft.pk}),
        (f"{base}/items/", {"version": "abc"}),
    ]:
        assert client.post(url, data).status_code == 302, url
    item.refresh_from_db()
    assert item.minutes == 10 and plan.items.count() == 1
    response = client.post(f"{base}/attach/", {})
    assert response.status_code == 200
    assert "Choose one session or one series" in response.content.decode()


def test_plan_form_only_offers_groups_the_person_facilitates(
    client: Client, facilitator, group
) -> None:
    from tests.factories import SupportGroupFactory

    other = SupportGroupFactory()
    client.force_login(facilitator)
    response = client.post(
        "/prompts/plans/new/", {"title": "Mine", "group": other.pk, "description": ""}
    )
    assert response.status_code == 200
    assert not SessionPlan.objects.exists()
    client.post("/prompts/plans/new/", {"title": "Ours", "group": group.pk})
    plan = SessionPlan.objects.get()
    assert (plan.group, plan.owner) == (group, facilitator)
