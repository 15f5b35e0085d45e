from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from safety.models import CareResource
from safety.seed import load_care_resources
from safety.services import crisis_card, pin_resource, resources_for
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory

pytestmark = pytest.mark.django_db


def _names(country: str | None) -> list[str]:
    return [r.name for r in resources_for(country)]


def test_loader_is_idempotent_and_dated(resources: int) -> None:
    count = CareResource.objects.count()
    assert load_care_resources() == resources
    assert CareResource.objects.count() == count
    assert set(CareResource.objects.values_list("last_verified", flat=True)) == {
        dt.date(2026, 11, 1)
    }
    assert CareResource.objects.filter(is_example=True).count() >= 8
    for resource in CareResource.objects.all():
        resource.full_clean()


@pytest.mark.usefixtures("resources")
@pytest.mark.parametrize(
    ("country", "expected", "absent"),
    [
        ("US", ["988 Suicide & Crisis Lifeline", "Crisis Text Line"], ["Samaritans"]),
        ("CA", ["9-8-8 Suicide Crisis Helpline"], ["Crisis Text Line"]),
        ("GB", ["Samaritans", "Shout"], ["50808 text service"]),
        ("IE", ["Samaritans", "50808 text service"], ["Shout"]),
        ("AU", ["Lifeline Australia"], ["Samaritans"]),
        (None, ["Find A Helpline", "Your local emergency number"], ["Samaritans"]),
        ("ZZ", ["Find A Helpline"], ["988 Suicide & Crisis Lifeline"]),
    ],
)
def test_resources_by_country_with_fallback(
    country: str | None, expected: list[str], absent: list[str]
) -> None:
    names = _names(country)
    for name in expected:
        assert name in names
    for name in absent:
        assert name not in names
    assert "Find A Helpline" in names
    crisis_first = [r.is_crisis for r in resources_for(country)]
    assert crisis_first == sorted(crisis_first, reverse=True)


@pytest.mark.usefixtures("resources")
def test_card_is_json_and_links_are_well_formed() -> None:
    card = crisis_card("US", "concern")
    assert json.loads(json.dumps(card)) == card
    assert card["type"] == "safety.card" and card["variant"] == "self"
    assert card["hope"] and card["emergency"]["href"] == "tel:911"
    hrefs = [r["phone_href"] for r in card["resources"] if r["phone"]]
    hrefs += [r["sms_href"] for r in card["resources"] if r["sms"]]
    assert "tel:988" in hrefs and "sms:741741" in hrefs
    for href in hrefs:
        scheme, number = href.split(":", 1)
        assert scheme in ("tel", "sms")
        assert number.lstrip("+").isdigit()
    assert all(
        r["url"].startswith("https://") or not r["url"] for r in card["resources"]
    )
    gb = crisis_card("GB", "concern")
    assert "tel:116123" in [r["phone_href"] for r in gb["resources"]]
    assert "sms:85258" in [r["sms_href"] for r in gb["resources"]]


@pytest.mark.usefixtures("resources")
def test_card_variants() -> None:
    imminent = crisis_card("GB", "imminent")
    assert "facilitator has been told" in imminent["notice"]
    assert crisis_card("GB", "method")["notice"]
    assert crisis_card("GB", "concern")["notice"] == ""
    assert crisis_card("GB", "concern", held=True)["notice"]
    other = crisis_card("IE", "third_party")
    assert other["variant"] == "someone_else"
    assert "worried about someone" in other["body"]
    nowhere = crisis_card(None, "concern")
    assert nowhere["emergency"]["number"] == ""
    assert "local emergency number" in nowhere["emergency"]["text"]
    assert nowhere["more_url"] == "/support/"


@pytest.mark.usefixtures("resources")
def test_card_includes_group_pins() -> None:
    group = SupportGroupFactory()
    lead = MembershipFactory(group=group, role="facilitator").user
    local = CareResource.objects.create(
        name="Local warm line",
        slug="local",
        kind="crisis_line",
        phone="+44 20 0000 0000",
    )
    pin_resource(group=group, by=lead, resource_id=local.pk)
    card = crisis_card("GB", "concern", group=group)
    assert [p["name"] for p in card["pinned"]] == ["Local warm line"]
    assert card["pinned"][0]["phone_href"] == "tel:+442000000000"


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "http://example.org", "data:text/html,hi", "ftp://x.org"],
)
def test_only_https_urls(url: str) -> None:
    resource = CareResource(name="X", slug="x", kind="therapy", url=url)
    with pytest.raises(ValidationError) as error:
        resource.full_clean()
    assert "url" in error.value.message_dict


@pytest.mark.parametrize("phone", ["call me", "123; DROP", "+", "1" * 40, "tel:988"])
def test_phone_numbers_are_validated(phone: str) -> None:
    with pytest.raises(ValidationError):
        CareResource(name="X", slug="x", kind="crisis_line", phone=phone).full_clean()


def test_unsafe_url_stored_around_clean_is_never_rendered() -> None:
    resource = CareResource.objects.create(
        name="Sneaky",
        slug="sneaky",
        kind="chat",
        url="javascript:alert(1)",
        everywhere=True,
    )
    assert resource.safe_url == ""
    page = Client().get("/support/").content.decode()
    assert "javascript:" not in page


@pytest.mark.usefixtures("resources")
def test_support_page_by_profile_country_and_choice() -> None:
    client = Client()
    page = client.get("/support/").content.decode()
    assert "Find A Helpline" in page and "Samaritans" not in page
    assert "local emergency number" in page
    assert "Last checked 2026-11-01" in page
    page = client.get("/support/?country=gb").content.decode()
    assert "Samaritans" in page and 'href="tel:116123"' in page
    assert 'href="sms:85258"' in page and "Text SHOUT to 85258" in page
    user = UserFactory(country="US")
    client.force_login(user)
    page = client.get("/support/").content.decode()
    assert "988 Suicide &amp; Crisis Lifeline" in page
    assert 'href="sms:741741"' in page and "Text HOME to 741741" in page
    assert "Example" in page
    page = client.get("/support/?country=").content.decode()
    assert "988 Suicide" not in page
