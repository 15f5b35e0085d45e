"""Library rows show each prompt as it is now.

Rows are rendered once per content (prompts/cards.py): these guard the key,
so a change to anything a row shows is never served stale.
"""

from __future__ import annotations

import pytest
from django.test import Client

from prompts.models import PromptRating, Theme
from prompts.services import plans as plan_service
from tests.factories import MeetingFactory
from tests.prompts.factories import PlanItemFactory, SessionPlanFactory, published

pytestmark = pytest.mark.django_db


def page(client: Client) -> str:
    response = client.get("/prompts/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def row(facilitator):  # type: ignore[no-untyped-def]
    trust = Theme.objects.get(slug="trust")
    # No version author, so only the prompt's author names the row.
    return published(title="Trusting slowly", themes=[trust], author=None)


def test_rows_follow_a_renamed_theme(client: Client, facilitator, row) -> None:
    client.force_login(facilitator)
    assert "Trust</span>" in page(client)
    Theme.objects.filter(slug="trust").update(name="Trust and repair")
    assert "Trust and repair</span>" in page(client)


def test_rows_follow_the_authors_name_and_credit(
    client: Client, facilitator, row
) -> None:
    client.force_login(facilitator)
    author = row.prompt.author
    assert f"By {author.display_name}" in page(client)
    author.display_name = "Renamed Author"
    author.save()
    assert "By Renamed Author" in page(client)
    row.prompt.credit = "Hearth starter library"
    row.prompt.save()
    assert "Hearth starter library" in page(client)


def test_rows_follow_usage_and_ratings(
    client: Client, facilitator, group, member, row
) -> None:
    client.force_login(facilitator)
    assert "not used in a session yet" in page(client)
    plan = SessionPlanFactory(owner=facilitator)
    PlanItemFactory(plan=plan, version=row)
    meeting = MeetingFactory(group=group)
    plan_service.attach_plan(plan=plan, by=facilitator, meeting=meeting)
    assert "used in 1 session" in page(client)
    PromptRating.objects.create(member=member, version=row, meeting=meeting, score=5)
    assert "rated 5.0/5 as helpful by 1 member" in page(client)


def test_rows_show_every_theme_in_the_themes_order(client: Client, facilitator) -> None:
    themes = list(Theme.objects.order_by("position", "name")[:3])
    published(title="Many themes", themes=list(reversed(themes)))
    client.force_login(facilitator)
    html = page(client)
    found = [html.index(f">{t.name}</span>") for t in themes]
    assert found == sorted(found)


def test_rows_follow_the_name_of_a_later_versions_author(
    client: Client, facilitator
) -> None:
    from tests.factories import UserFactory

    reviser = UserFactory(display_name="First Reviser")
    published(title="Revised prompt", number=2, author=reviser)
    client.force_login(facilitator)
    assert "version 2 by First Reviser" in page(client)
    reviser.display_name = "Second Reviser"
    reviser.save()
    assert "version 2 by Second Reviser" in page(client)
