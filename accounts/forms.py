from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField  # type: ignore[attr-defined]

from .models import User, timezone_choices
from .validators import clean_display_name, suggest_pseudonym, validate_display_name


class DisplayNameField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault(
            "help_text",
            "A pseudonym is welcome. Please don't use your email, phone number "
            "or full real name.",
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = clean_display_name(super().clean(value))
        if value or self.required:
            try:
                validate_display_name(value)
            except forms.ValidationError as error:
                suggestion = suggest_pseudonym()
                raise forms.ValidationError(
                    [*error.messages, f"How about “{suggestion}”?"], code=error.code
                ) from error
        return value


class SignupExtraForm(forms.Form):
    """Fields added to allauth's sign-up: only a pseudonym and a time zone."""

    display_name = DisplayNameField(label="Display name")
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=timezone_choices,
        initial="UTC",
        help_text="Session times are shown in this zone.",
        widget=forms.Select(attrs={"data-guess-timezone": ""}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["display_name"].initial = suggest_pseudonym()

    def signup(self, request: HttpRequest, user: User) -> None:
        user.display_name = self.cleaned_data["display_name"]
        user.timezone = self.cleaned_data["timezone"]
        user.save(update_fields=["display_name", "timezone"])


class ProfileForm(forms.ModelForm):
    display_name = DisplayNameField(label="Display name")
    timezone = forms.ChoiceField(label="Time zone", choices=timezone_choices)
    country = LazyTypedChoiceField(
        choices=[("", "Prefer not to say"), *countries],
        required=False,
        help_text="Used only to show care resources for where you are.",
    )

    class Meta:
        model = User
        fields = [
            "display_name",
            "timezone",
            "country",
            "email_reminders",
            "email_reflections",
            "email_group_updates",
        ]
