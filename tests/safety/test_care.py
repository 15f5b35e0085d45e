"""The care directory: loaded by a migration in every deployment, shown on
/support/ by country with the international fallback, each resource once.
Catalogue M-13 (localised resources, well-formed tel:/sms: links)."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from safety.care_directory import entries, load_missing
from safety.models import CareResource, PinnedResource
from safety.seed import load_care_resources
from safety.services import crisis_card, pin_resource, resources_for
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory

pytestmark = pytest.mark.django_db

CRISIS_KINDS = {"crisis_line", "text_line", "chat"}
COUNTRIES = sorted({c for e in entries() for c in e["countries"]})
TEL = re.compile(r"^tel:\+?[0-9]{2,16}$")
SMS = re.compile(r"^sms:\+?[0-9]{2,16}$")
RESOURCE_ID = re.compile(r'data-resource="(\d+)"')


def _page(query: str = "", client: Client | None = None) -> str:
    response = (client or Client()).get(f"/support/{query}")
    assert response.status_code == 200
    return response.content.decode()


def _crisis_entries(country: str) -> list[dict[str, object]]:
    return [
        e
        for e in entries()
        if country in e["countries"] and e["kind"] in CRISIS_KINDS  # type: ignore[operator]
    ]


def test_a_fresh_database_has_the_directory_from_migrations_alone() -> None:
    """No demo data and no loader call here: only `migrate` ran."""
    slugs = set(CareResource.objects.values_list("slug", flat=True))
    assert {e["slug"] for e in entries()} <= slugs
    assert len(COUNTRIES) >= 25
    for country in COUNTRIES:
        assert _crisis_entries(country), country
    samaritans = CareResource.objects.get(slug="uk-ie-samaritans")
    assert samaritans.phone == "116 123"
    assert samaritans.last_verified == dt.date(2026, 12, 3)
    assert samaritans.source_url.startswith("https://www.samaritans.org/")
    assert not CareResource.objects.filter(is_example=True, active=True).exists()


def test_a_fresh_database_holds_the_data_file_as_written() -> None:
    """Migration 0002 reads the data file when it runs, so a new deployment
    gets every correction made to the file, field for field."""
    fields = {f.name for f in CareResource._meta.concrete_fields} - {"id", "slug"}
    for entry in entries():
        row = CareResource.objects.get(slug=entry["slug"])
        for name in fields & entry.keys():
            stored = getattr(row, name)
            if name == "countries":
                stored = [c.code for c in stored]
            elif name == "last_verified":
                stored = stored.isoformat() if stored else None
            assert stored == entry[name], (entry["slug"], name)


def test_every_entry_is_valid_and_says_where_it_was_checked() -> None:
    for resource in CareResource.objects.all():
        resource.full_clean()
        reachable = resource.phone or resource.sms or resource.url
        if reachable:
            # A date only when confirmed; otherwise the page says so.
            assert resource.source_url or resource.last_verified is None
        if resource.last_verified is not None:
            assert resource.source_url, resource.slug


@pytest.mark.parametrize("country", COUNTRIES)
def test_support_page_shows_real_crisis_lines_for_each_country(country: str) -> None:
    page = _page(f"?country={country.lower()}")
    for entry in _crisis_entries(country):
        assert html_escape(str(entry["name"])) in page, entry["slug"]
        if entry["phone"]:
            digits = re.sub(r"[^0-9]", "", str(entry["phone"]))
            assert f'href="tel:{digits}"' in page
        if entry["sms"]:
            digits = re.sub(r"[^0-9]", "", str(entry["sms"]))
            assert f'href="sms:{digits}"' in page
    ids = RESOURCE_ID.findall(page)
    assert len(ids) == len(set(ids)), "a resource is listed twice"
    # The international directory stays as a second door, and a way to find
    # professional care is always there.
    assert "Find A Helpline" in page
    assert 'data-topic="finder"' in page


@pytest.mark.parametrize("query", ["", "?country=", "?country=ZZ", "?country=%00"])
def test_unknown_country_falls_back_to_directory_and_emergency_number(
    query: str,
) -> None:
    page = _page(query)
    assert "Find A Helpline" in page and "local emergency number" in page
    for country in ("US", "GB", "FR"):
        for entry in _crisis_entries(country):
            assert html_escape(str(entry["name"])) not in page
    assert "Showing what is available everywhere" in page


@pytest.mark.parametrize(
    ("country", "hrefs"),
    [
        ("US", ["tel:988", "sms:988", "sms:741741", "tel:911"]),
        ("GB", ["tel:116123", "sms:85258", "tel:999"]),
        ("IE", ["tel:116123", "sms:50808", "tel:112"]),
        ("AU", ["tel:131114", "sms:0477131114", "tel:000"]),
    ],
)
def test_m13_localised_lines_with_well_formed_links(
    country: str, hrefs: list[str]
) -> None:
    """M-13: US 988 + 741741, UK 85258 + Samaritans, IE 50808."""
    page = _page(f"?country={country}")
    for href in hrefs:
        assert f'href="{href}"' in page, href
    for href in re.findall(r'href="((?:tel|sms):[^"]*)"', page):
        assert TEL.match(href) or SMS.match(href), href


def test_every_stored_number_makes_a_well_formed_link() -> None:
    for resource in CareResource.objects.all():
        if resource.phone:
            assert TEL.match(resource.phone_href), resource.slug
        if resource.sms:
            assert SMS.match(resource.sms_href), resource.slug
        assert resource.safe_url == resource.url or not resource.url


def test_professional_care_is_grouped_by_kind_and_per_country() -> None:
    gb = _page("?country=GB")
    assert "NHS Talking Therapies" in gb
    for topic in ("finder", "ocd", "trauma", "dbt", "medication"):
        assert f'data-topic="{topic}"' in gb, topic
    us = _page("?country=US")
    for name in ("FindTreatment.gov", "ADAA", "CHADD", "ABCT", "IOCDF", "DBT-Linehan"):
        assert name in us, name
    for topic in ("anxiety_depression", "adhd", "cbt"):
        assert f'data-topic="{topic}"' in us, topic
    fr = _page("?country=FR")
    assert "Mon soutien psy" in fr and "NHS Talking Therapies" not in fr
    for country in COUNTRIES:
        found = [r for r in resources_for(country) if r.topic == "finder"]
        assert found, country


# Countries whose own health service, regulator or national professional body
# has a confirmed finder (docs/safety.md, "Countries covered").
NATIONAL_FINDERS = {
    "AT": "psyhelp: clinical-psychological treatment covered by health insurance",
    "AU": "Find a Psychologist (Australian Psychological Society)",
    "BE": "Sessions with a psychologist covered by health insurance (Belgium)",
    "BR": "Centros de Atenção Psicossocial (CAPS), Ministry of Health",
    "CA": "Finding a psychologist (Canadian Psychological Association)",
    "DE": "Terminservicestellen",
    "FI": "Kela: rehabilitative psychotherapy and therapist search",
    "FR": "Mon soutien psy",
    "GB": "NHS Talking Therapies",
    "HK": "Register of Psychologists (Hong Kong Psychological Society)",
    "IE": "Find a Chartered Psychologist (Psychological Society of Ireland)",
    "IS": "Psychologists at health care centres (Heilsugæslan)",
    "JP": "Where to get help (National Center of Neurology and Psychiatry)",
    "NL": "Regelhulp: getting help for mental health (Netherlands)",
    "NO": "Helsenorge: mental health help for adults",
    "NZ": "Register of Psychologists (New Zealand Psychologists Board)",
    "SE": "1177: how to see a psychologist or psychotherapist",
    "SG": "Singapore Register of Psychologists",
    "US": "FindTreatment.gov",
    "ZA": "Directory of Psychology Practitioners (Psychological Society of South Africa)",
}


@pytest.mark.parametrize(("country", "name"), sorted(NATIONAL_FINDERS.items()))
def test_m13_a_national_finder_beside_the_family_doctor(
    country: str, name: str
) -> None:
    """M-13: where a country has its own finder, /support/ shows it under
    "finder" with a safe link, besides the family-doctor guidance, and no
    other country's finder."""
    own = [
        r
        for r in resources_for(country)
        if r.topic == "finder" and not r.everywhere and r.safe_url
    ]
    assert any(name in r.name for r in own), country
    page = _page(f"?country={country}")
    assert html_escape(name) in page
    for other, other_name in NATIONAL_FINDERS.items():
        if other != country:
            assert html_escape(other_name) not in page, (country, other)


def test_unconfirmed_entries_are_marked_on_the_page() -> None:
    page = _page("?country=US")
    assert "Not yet checked by Hearth with the service itself" in page
    assert "Last checked 2026-12-03" in _page("?country=FR")


def test_profile_country_then_the_chooser() -> None:
    client = Client()
    client.force_login(UserFactory(country="NZ"))
    assert "Need to talk? 1737" in _page(client=client)
    page = _page("?country=CA", client=client)
    assert "9-8-8 Suicide Crisis Helpline" in page and "1737" not in page
    assert '<option value="CA" selected>' in page
    assert "Need to talk? 1737" not in _page("?country=", client=client)


def test_each_resource_once_even_when_a_group_pins_a_card_line() -> None:
    group = SupportGroupFactory()
    lead = MembershipFactory(group=group, role="facilitator").user
    samaritans = CareResource.objects.get(slug="uk-ie-samaritans")
    iocdf = CareResource.objects.get(slug="intl-iocdf")
    pin_resource(group=group, by=lead, resource_id=samaritans.pk)
    pin_resource(group=group, by=lead, resource_id=iocdf.pk)
    client = Client()
    client.force_login(lead)
    page = _page("?country=GB", client=client)
    ids = RESOURCE_ID.findall(page)
    assert len(ids) == len(set(ids))
    assert ids.count(str(samaritans.pk)) == 1 and ids.count(str(iocdf.pk)) == 1
    assert "Recommended by your groups" in page  # IOCDF moved up to the pins


def test_loading_again_reuses_rows_and_keeps_admin_edits() -> None:
    """The migration runs once; the demo loader reuses its rows."""
    count = CareResource.objects.count()
    edited = CareResource.objects.get(slug="fr-3114")
    edited.hours = "Edited by an admin"
    edited.save()
    assert load_care_resources() == 0
    assert load_missing(CareResource) == 0
    assert CareResource.objects.count() == count
    edited.refresh_from_db()
    assert edited.hours == "Edited by an admin"
    CareResource.objects.filter(slug="nl-113").delete()
    assert load_care_resources() == 1
    assert CareResource.objects.count() == count


def test_demo_loader_retires_old_example_rows_but_keeps_pins() -> None:
    old = CareResource.objects.create(
        name="Example: therapy for anxiety",
        slug="example-anxiety",
        kind="therapy",
        what_to_expect="Talking therapies help many people.",
        everywhere=True,
        is_example=True,
    )
    group = SupportGroupFactory()
    PinnedResource.objects.create(group=group, resource=old)
    load_care_resources()
    old.refresh_from_db()
    assert old.active is False
    assert PinnedResource.objects.filter(resource=old).exists()
    assert "Example: therapy" not in _page()


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        ("US", "988 Suicide & Crisis Lifeline"),
        ("FR", "3114, numéro national de prévention du suicide"),
        ("DE", "TelefonSeelsorge"),
        ("AU", "Lifeline Australia"),
        (None, "Find A Helpline"),
    ],
)
def test_room_crisis_card_uses_the_directory(
    country: str | None, expected: str
) -> None:
    card = crisis_card(country, "imminent")
    assert json.loads(json.dumps(card)) == card
    assert expected in [r["name"] for r in card["resources"]]
    crisis_first = [r.is_crisis for r in resources_for(country)]
    assert crisis_first == sorted(crisis_first, reverse=True)


def test_card_is_json_and_links_are_well_formed() -> None:
    card = crisis_card("US", "concern")
    assert card["type"] == "safety.card" and card["variant"] == "self"
    assert card["hope"] and card["emergency"]["href"] == "tel:911"
    hrefs = [r["phone_href"] for r in card["resources"] if r["phone"]]
    hrefs += [r["sms_href"] for r in card["resources"] if r["sms"]]
    assert "tel:988" in hrefs and "sms:741741" in hrefs
    for href in hrefs:
        assert TEL.match(href) or SMS.match(href)
    assert all(
        r["url"].startswith("https://") or not r["url"] for r in card["resources"]
    )
    gb = crisis_card("GB", "concern")
    assert "tel:116123" in [r["phone_href"] for r in gb["resources"]]
    assert "sms:85258" in [r["sms_href"] for r in gb["resources"]]


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
    assert "javascript:" not in _page()


def html_escape(text: str) -> str:
    from django.utils.html import escape

    return str(escape(text))


def test_admins_can_list_the_entries_still_to_confirm() -> None:
    from django.urls import reverse

    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    url = reverse("admin:safety_careresource_changelist")
    page = client.get(url + "?last_verified__isempty=1").content.decode()
    assert "Crisis Text Line" in page and "Shout 85258" not in page
    assert "988 Suicide" not in page  # confirmed on 2026-12-03
