"""The care directory: crisis lines and professional care, by country."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

# What people may type for a number: digits, spaces, dashes, dots,
# brackets and a leading plus. The link keeps only digits and the plus.
_PHONE = re.compile(r"\+?[0-9][0-9 ().-]{1,30}")


def validate_phone(value: str) -> None:
    if not _PHONE.fullmatch(value) or not 2 <= len(phone_digits(value)) <= 16:
        raise ValidationError(
            "Use digits, spaces and dashes, with an optional leading +.",
            code="phone",
        )


def phone_digits(value: str) -> str:
    """The href form of a number: digits and a leading + only."""
    value = value.strip()
    digits = re.sub(r"[^0-9]", "", value)
    return f"+{digits}" if value.startswith("+") else digits


https_only = URLValidator(schemes=["https"], message="Enter an https:// address.")


class ResourceKind(models.TextChoices):
    CRISIS_LINE = "crisis_line", "Crisis line (call)"
    TEXT_LINE = "text_line", "Crisis text line"
    CHAT = "chat", "Crisis chat"
    EMERGENCY = "emergency", "Emergency services"
    PEER_LINE = "peer_line", "Peer support line"
    THERAPY = "therapy", "Therapy"
    PSYCHIATRY = "psychiatry", "Psychiatry"
    PROGRAMME = "programme", "Specialised programme"
    DIRECTORY = "directory", "Helpline directory"


class CareTopic(models.TextChoices):
    """What a professional-care entry helps with: the support page groups
    professional care by topic (docs/safety.md, "Care directory")."""

    FINDER = "finder", "Find a therapist or psychologist"
    ANXIETY_DEPRESSION = "anxiety_depression", "Anxiety and depression"
    OCD = "ocd", "OCD"
    ADHD = "adhd", "ADHD"
    TRAUMA = "trauma", "Trauma-focused therapy"
    DBT = "dbt", "DBT (dialectical behaviour therapy)"
    CBT = "cbt", "CBT (cognitive behavioural therapy)"
    MEDICATION = "medication", "Medication and psychiatry"


CRISIS_KINDS = (
    ResourceKind.CRISIS_LINE,
    ResourceKind.TEXT_LINE,
    ResourceKind.CHAT,
    ResourceKind.EMERGENCY,
    ResourceKind.DIRECTORY,
)


class CareResourceQuerySet(models.QuerySet["CareResource"]):
    def active(self) -> CareResourceQuerySet:
        return self.filter(active=True)

    def crisis(self) -> CareResourceQuerySet:
        return self.filter(kind__in=CRISIS_KINDS)


class CareResource(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(
        max_length=80,
        unique=True,
        help_text="A stable key (the care directory data file uses it).",
    )
    kind = models.CharField(max_length=20, choices=ResourceKind.choices)
    topic = models.CharField(
        max_length=20,
        choices=CareTopic.choices,
        blank=True,
        help_text="For professional care: the group it is listed under.",
    )
    what_to_expect = models.TextField(
        max_length=600,
        blank=True,
        help_text="Who answers, what happens when you reach out, cost.",
    )
    phone = models.CharField(max_length=32, blank=True, validators=[validate_phone])
    sms = models.CharField(
        "SMS number", max_length=32, blank=True, validators=[validate_phone]
    )
    sms_keyword = models.CharField(
        max_length=20,
        blank=True,
        help_text='A word to text, shown as "Text HOME to 741741".',
    )
    url = models.URLField(
        "web address",
        max_length=300,
        blank=True,
        validators=[https_only],
        help_text="https:// only.",
    )
    hours = models.CharField(max_length=120, blank=True, help_text='e.g. "24/7".')
    countries = CountryField(multiple=True, blank=True)
    everywhere = models.BooleanField(
        default=False,
        help_text="Shown to everyone, whatever their country (international "
        "directories, emergency guidance).",
    )
    languages = models.CharField(
        max_length=200, blank=True, help_text='e.g. "English, Spanish".'
    )
    is_example = models.BooleanField(
        default=False,
        help_text="Demo data: an example of a kind of care, not a referral.",
    )
    last_verified = models.DateField(
        null=True,
        blank=True,
        default=timezone.localdate,
        help_text="The day someone confirmed these details on the service's own "
        "website. Leave empty if they are not confirmed yet: the page then says so.",
    )
    source_url = models.URLField(
        "checked at",
        max_length=300,
        blank=True,
        help_text="The page the details were checked against (not shown to members).",
    )
    active = models.BooleanField(default=True)
    ordering = models.PositiveSmallIntegerField(default=100)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CareResourceQuerySet.as_manager()

    class Meta:
        ordering = ["ordering", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.sms_keyword and not self.sms:
            raise ValidationError({"sms_keyword": "A keyword needs an SMS number."})
        if not (self.phone or self.sms or self.url or self.what_to_expect):
            raise ValidationError("Give at least one way to reach this resource.")

    @property
    def is_crisis(self) -> bool:
        return self.kind in CRISIS_KINDS

    @property
    def phone_href(self) -> str:
        return f"tel:{phone_digits(self.phone)}" if self.phone else ""

    @property
    def sms_href(self) -> str:
        return f"sms:{phone_digits(self.sms)}" if self.sms else ""

    @property
    def safe_url(self) -> str:
        """The address, only if it is https (rows written around `clean`)."""
        return self.url if self.url.lower().startswith("https://") else ""

    def serves(self, country: str | None) -> bool:
        return self.everywhere or bool(country and country in self.country_codes)

    @property
    def country_codes(self) -> set[str]:
        return {getattr(c, "code", str(c)) for c in self.countries}


class PinnedResource(models.Model):
    """A resource a group's facilitators show to their members."""

    group = models.ForeignKey(
        "groups.SupportGroup", on_delete=models.CASCADE, related_name="pinned_resources"
    )
    resource = models.ForeignKey(
        CareResource, on_delete=models.CASCADE, related_name="pins"
    )
    pinned_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    pinned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pinned_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["group", "resource"], name="one_pin")
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} pinned in {self.group_id}"
