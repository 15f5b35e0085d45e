"""The care directory as the rest of Hearth uses it: resources for a
country, the crisis card, and a group's pinned resources."""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from django.db import IntegrityError, transaction
from django.urls import reverse
from django_countries import countries

from groups import access as group_access
from groups.models import SupportGroup
from safety.models import CareResource, CareTopic, PinnedResource

from .audit import audit

# Widely published emergency numbers. Anywhere else the card says "your
# local emergency number" without a number (docs/safety.md, "Care directory").
EMERGENCY_NUMBERS = {
    "US": "911",
    "CA": "911",
    "MX": "911",
    "BR": "192",
    "HK": "999",
    "SG": "995",
    "IN": "112",
    "GB": "999",
    "IE": "112",
    "AU": "000",
    "NZ": "111",
    **dict.fromkeys(
        [
            "AT",
            "BE",
            "BG",
            "HR",
            "CY",
            "CZ",
            "DK",
            "EE",
            "FI",
            "FR",
            "DE",
            "GR",
            "HU",
            "IT",
            "LV",
            "LT",
            "LU",
            "MT",
            "NL",
            "PL",
            "PT",
            "RO",
            "SK",
            "SI",
            "ES",
            "SE",
            "IS",
            "NO",
            "CH",
        ],
        "112",
    ),
}
CARD_RESOURCES = 5
CARD_PINS = 3


def country_code(value: Any) -> str | None:
    """A valid ISO 3166 alpha-2 code, or None."""
    if not value:
        return None
    code = countries.alpha2(str(value).strip().upper()[:3])
    return code or None


def resources_for(country: str | None) -> list[CareResource]:
    """Active resources for `country` (an ISO code; None or unknown: only the
    fallback). Crisis resources come first, the country's own before the
    ones shown everywhere; then professional care in the same order."""
    code = country_code(country)
    found = [r for r in CareResource.objects.active() if r.serves(code)]
    return sorted(
        found,
        key=lambda r: (not r.is_crisis, r.everywhere, r.ordering, r.name, r.pk),
    )


class ResourceData(TypedDict):
    id: int
    name: str
    kind: str
    kind_label: str
    what_to_expect: str
    phone: str
    phone_href: str
    sms: str
    sms_href: str
    sms_keyword: str
    url: str
    hours: str
    languages: str
    last_verified: str
    verified: bool
    topic: str
    is_example: bool


class Emergency(TypedDict):
    text: str
    number: str
    href: str


class CrisisCard(TypedDict):
    type: Literal["safety.card"]
    variant: Literal["self", "someone_else"]
    tier: str
    country: str | None
    title: str
    hope: str
    body: str
    notice: str
    emergency: Emergency
    resources: list[ResourceData]
    pinned: list[ResourceData]
    more_url: str


def resource_data(resource: CareResource) -> ResourceData:
    """A JSON-safe view of one resource (WebSocket frames, templates)."""
    return {
        "id": resource.pk,
        "name": resource.name,
        "kind": resource.kind,
        "kind_label": resource.get_kind_display(),
        "what_to_expect": resource.what_to_expect,
        "phone": resource.phone,
        "phone_href": resource.phone_href,
        "sms": resource.sms,
        "sms_href": resource.sms_href,
        "sms_keyword": resource.sms_keyword,
        "url": resource.safe_url,
        "hours": resource.hours,
        "languages": resource.languages,
        "last_verified": (
            resource.last_verified.isoformat() if resource.last_verified else ""
        ),
        "verified": resource.last_verified is not None,
        "topic": resource.topic,
        "is_example": resource.is_example,
    }


def emergency_for(country: str | None) -> Emergency:
    number = EMERGENCY_NUMBERS.get(country or "", "")
    if number:
        text = f"In immediate danger? Call {number} (your local emergency number)."
    else:
        text = "In immediate danger? Call your local emergency number."
    return {"text": text, "number": number, "href": f"tel:{number}" if number else ""}


_WORDING = {
    "self": {
        "title": "You don't have to carry this alone",
        "hope": "Feelings like these can ease, and people do get through moments "
        "like this. Support is available right now.",
        "body": "If you'd like to talk to someone now, these services are free and "
        "confidential:",
    },
    "imminent": {
        "title": "Please reach out now: you deserve support",
        "hope": "You matter, and this moment can pass. People are ready to help "
        "you right now.",
        "body": "Please call or text one of these now, or call your local emergency "
        "number. You can stay on the line as long as you need.",
    },
    "someone_else": {
        "title": "Helping someone who may be at risk",
        "hope": "Reaching out for someone is a caring thing to do, and you don't "
        "have to handle it alone.",
        "body": "If they are in immediate danger, call the local emergency number "
        "now. These lines also help people who are worried about someone, and "
        "they are there for you too.",
    },
}

_NOTICES = {
    "imminent": "Your message was not shown to the group. A facilitator has been "
    "told and will reach out to you.",
    "method": "Your message was not shown to the group for now; a facilitator "
    "will check in with you.",
    "held": "Your message is waiting for a facilitator before the group sees it.",
}


def crisis_card(
    country: str | None,
    tier: str,
    *,
    group: SupportGroup | None = None,
    held: bool | None = None,
) -> CrisisCard:
    """The crisis card for a person in `country` after a message of `tier`.

    JSON-serialisable, so the room can send it as a WebSocket frame as is;
    `templates/safety/_crisis_card.html` renders the same dict. Third-party
    tier gives the "help someone else" variant. `group` adds the group's
    pinned crisis resources; `held` (default: true for method and imminent)
    adds the line saying the message was not shown.
    """
    code = country_code(country)
    variant: Literal["self", "someone_else"] = (
        "someone_else" if tier == "third_party" else "self"
    )
    wording = _WORDING[
        "someone_else"
        if variant == "someone_else"
        else ("imminent" if tier == "imminent" else "self")
    ]
    if held is None:
        held = tier in ("method", "imminent")
    notice = ""
    if tier in ("imminent", "method"):
        notice = _NOTICES[tier]
    elif held:
        notice = _NOTICES["held"]
    crisis = [r for r in resources_for(code) if r.is_crisis][:CARD_RESOURCES]
    shown = {r.pk for r in crisis}
    pinned: list[ResourceData] = []
    if group is not None:
        pinned = [
            resource_data(pin.resource)
            for pin in pinned_resources(group)
            if pin.resource.pk not in shown
        ][:CARD_PINS]
    more = reverse("safety:support")
    return {
        "type": "safety.card",
        "variant": variant,
        "tier": tier,
        "country": code,
        "title": wording["title"],
        "hope": wording["hope"],
        "body": wording["body"],
        "notice": notice,
        "emergency": emergency_for(code),
        "resources": [resource_data(r) for r in crisis],
        "pinned": pinned,
        "more_url": f"{more}?country={code}" if code else more,
    }


class CareGroup(TypedDict):
    topic: str
    label: str
    resources: list[ResourceData]


class SupportPage(TypedDict):
    country: str | None
    country_name: str
    card: CrisisCard
    crisis: list[ResourceData]
    pins: list[ResourceData]
    care: list[CareGroup]


def support_page(country: str | None, *, user: Any = None) -> SupportPage:
    """Everything the "Get support" page shows for `country` (None: the
    international fallback), each resource once: the crisis card, the other
    crisis resources, the viewer's group pins, then professional care grouped
    by topic (docs/safety.md, "Care directory")."""
    code = country_code(country)
    card = crisis_card(code, "concern")
    shown = {r["id"] for r in card["resources"]}
    resources = resources_for(code)
    crisis = [resource_data(r) for r in resources if r.is_crisis and r.pk not in shown]
    shown |= {r["id"] for r in crisis}
    pins: list[ResourceData] = []
    if user is not None and user.is_authenticated:
        for pin in (
            PinnedResource.objects.filter(
                group__memberships__user=user, resource__active=True
            )
            .select_related("resource")
            .order_by("group__name", "pinned_at")[:30]
        ):
            if pin.resource.pk not in shown:
                shown.add(pin.resource.pk)
                pins.append(resource_data(pin.resource))
    labels = [(t.value, str(t.label)) for t in CareTopic] + [("", "Other support")]
    care: list[CareGroup] = []
    for topic, label in labels:
        group = [
            resource_data(r)
            for r in resources
            if not r.is_crisis and r.topic == topic and r.pk not in shown
        ]
        if group:
            care.append({"topic": topic, "label": label, "resources": group})
    return {
        "country": code,
        "country_name": str(countries.name(code)) if code else "",
        "card": card,
        "crisis": crisis,
        "pins": pins,
        "care": care,
    }


def pinned_resources(group: SupportGroup) -> list[PinnedResource]:
    """The group's pinned, active resources in pin order."""
    return list(
        PinnedResource.objects.filter(group=group, resource__active=True)
        .select_related("resource")
        .order_by("pinned_at", "pk")
    )


def pin_resource(*, group: SupportGroup, by: Any, resource_id: int) -> PinnedResource:
    """Pin an active resource to the group (facilitators). Idempotent."""
    group_access.require_facilitating(group, by)
    resource = CareResource.objects.active().filter(pk=resource_id).first()
    if resource is None:
        from django.core.exceptions import ValidationError

        raise ValidationError("Choose a resource from the list.")
    try:
        with transaction.atomic():
            pin = PinnedResource.objects.create(
                group=group, resource=resource, pinned_by=by
            )
    except IntegrityError:
        return PinnedResource.objects.get(group=group, resource=resource)
    audit(by, "resource.pin", target=pin, group=group, reason=f"resource {resource.pk}")
    return pin


def unpin_resource(*, group: SupportGroup, by: Any, pin_id: int) -> None:
    """Remove a pin of this group (facilitators). A missing pin is a no-op."""
    group_access.require_facilitating(group, by)
    pin = PinnedResource.objects.filter(group=group, pk=pin_id).first()
    if pin is None:
        return
    audit(
        by,
        "resource.unpin",
        target=pin,
        group=group,
        reason=f"resource {pin.resource_id}",
    )
    pin.delete()
