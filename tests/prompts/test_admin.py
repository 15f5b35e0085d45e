from __future__ import annotations

import pytest
from django.test import Client

from prompts.models import Prompt, PromptVersion
from prompts.starter import load_starter_library
from tests.prompts.factories import PromptVersionFactory, published

Status = PromptVersion.Status


@pytest.fixture
def admin_client_(client: Client, staff) -> Client:  # type: ignore[no-untyped-def]
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/prompts/prompt/",
        "/admin/prompts/prompt/?versions__status=published&versions__kind__exact=closing",
        "/admin/prompts/promptversion/?status__exact=submitted&themes__id__exact=1",
        "/admin/prompts/sessionplan/",
        "/admin/prompts/theme/",
        "/admin/prompts/promptrating/",
    ],
)
def test_admin_lists_and_filters_load(admin_client_: Client, url: str) -> None:
    load_starter_library()
    assert admin_client_.get(url).status_code == 200


def test_admin_change_pages_load(admin_client_: Client) -> None:
    load_starter_library()
    version = PromptVersion.objects.first()
    prompt = Prompt.objects.first()
    for url in (
        f"/admin/prompts/promptversion/{version.pk}/change/",
        f"/admin/prompts/prompt/{prompt.pk}/change/",
    ):
        assert admin_client_.get(url).status_code == 200


def test_bulk_publish_and_retire(admin_client_: Client) -> None:
    waiting = [PromptVersionFactory(status=Status.SUBMITTED) for _ in range(3)]
    admin_client_.post(
        "/admin/prompts/promptversion/",
        {"action": "publish", "_selected_action": [v.pk for v in waiting]},
    )
    assert PromptVersion.objects.published().count() == 3
    admin_client_.post(
        "/admin/prompts/prompt/",
        {"action": "retire", "_selected_action": [waiting[0].prompt_id]},
    )
    assert PromptVersion.objects.published().count() == 2
    assert PromptVersion.objects.filter(status=Status.RETIRED).count() == 1


def test_request_changes_asks_for_a_note_first(admin_client_: Client) -> None:
    version = PromptVersionFactory(status=Status.SUBMITTED)
    form = {"action": "request_changes", "_selected_action": [version.pk]}
    response = admin_client_.post("/admin/prompts/promptversion/", form)
    assert response.status_code == 200
    assert "Say what should change" in response.content.decode()
    version.refresh_from_db()
    assert version.status == Status.SUBMITTED
    admin_client_.post(
        "/admin/prompts/promptversion/",
        {**form, "apply": "1", "comment": "Softer wording, please."},
    )
    version.refresh_from_db()
    assert version.status == Status.CHANGES_REQUESTED
    assert version.comments.get().body == "Softer wording, please."


def test_publishing_a_published_version_is_a_warning_not_an_error(
    admin_client_: Client,
) -> None:
    version = published()
    response = admin_client_.post(
        "/admin/prompts/promptversion/",
        {"action": "publish", "_selected_action": [version.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "cannot be published" in response.content.decode()


def test_saving_a_published_version_in_admin_changes_nothing(
    admin_client_: Client,
) -> None:
    version = published(title="Kept")
    url = f"/admin/prompts/promptversion/{version.pk}/change/"
    management = {"comments-TOTAL_FORMS": "0", "comments-INITIAL_FORMS": "0"}
    response = admin_client_.post(url, {"title": "Changed", **management})
    assert response.status_code == 302
    version.refresh_from_db()
    assert version.title == "Kept"


def test_publish_latest_version_from_the_prompt_list(admin_client_: Client) -> None:
    waiting = PromptVersionFactory(status=Status.SUBMITTED)
    admin_client_.post(
        "/admin/prompts/prompt/",
        {"action": "publish_latest", "_selected_action": [waiting.prompt_id]},
    )
    waiting.refresh_from_db()
    assert waiting.status == Status.PUBLISHED
