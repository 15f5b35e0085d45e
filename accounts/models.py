from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django_countries.fields import CountryField

from .validators import clean_display_name, validate_display_name


@cache
def timezone_choices() -> list[tuple[str, str]]:
    zones = sorted(
        z
        for z in zoneinfo.available_timezones()
        if "/" in z and not z.startswith("Etc/")
    )
    return [("UTC", "UTC"), *((z, z.replace("_", " ")) for z in zones)]


def validate_timezone(value: str) -> None:
    from django.core.exceptions import ValidationError

    if value not in {z for z, _ in timezone_choices()}:
        raise ValidationError("Choose a time zone from the list.", code="timezone")


class HearthUserManager(UserManager["User"]):
    """Email is the login; there is no username."""

    use_in_migrations = True

    def _create_user_object(  # type: ignore[override]
        self, email: str, password: str | None, **extra: Any
    ) -> User:
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        user = self._create_user_object(email, password, **extra)
        user.save(using=self._db)
        return user

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra: Any
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("display_name", "Site admin")
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A Hearth account. Real names are never asked for; the display name is a
    pseudonym and the time zone drives every time shown to this person."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField("email address", unique=True)
    display_name = models.CharField(
        max_length=40,
        validators=[validate_display_name],
        help_text="A pseudonym is welcome. Shown to the groups you join.",
    )
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    country = CountryField(
        blank=True, help_text="Used only to show care resources for where you are."
    )
    email_reminders = models.BooleanField(
        "session reminders", default=True, help_text="Emails before sessions."
    )
    email_reflections = models.BooleanField(
        "reflection invitations",
        default=True,
        help_text="An invitation after sessions.",
    )
    email_group_updates = models.BooleanField(
        "group updates",
        default=True,
        help_text="Join decisions, waitlist places, schedule changes.",
    )
    # Bumping this revokes every calendar feed link issued so far.
    calendar_feed_generation = models.PositiveIntegerField(default=0)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects = HearthUserManager()  # type: ignore[misc]

    class Meta:
        ordering = ["display_name", "pk"]

    def __str__(self) -> str:
        return self.display_name or f"user {self.pk}"

    def clean(self) -> None:
        super().clean()
        self.display_name = clean_display_name(self.display_name)

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")
