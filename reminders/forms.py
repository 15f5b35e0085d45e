from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User
from groups.models import SupportGroup

from .models import Family


class PreferencesForm(forms.Form):
    email_reminders = forms.BooleanField(
        label="Session reminders", required=False, help_text="Before each session."
    )
    email_group_updates = forms.BooleanField(
        label="Schedule changes and follow-ups",
        required=False,
        help_text="New times, cancellations, session summaries and kind notes.",
    )
    email_reflections = forms.BooleanField(
        label="Reflection invitations", required=False, help_text="After sessions."
    )
    opt_outs = forms.MultipleChoiceField(
        label="Not from these groups",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Tick what you'd rather not receive from a particular group.",
    )
    quiet_start = forms.TimeField(
        label="Quiet hours start",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Reminders and invitations wait until your quiet hours end "
        "(news of a cancelled session never waits). In your own time zone.",
    )
    quiet_end = forms.TimeField(
        label="Quiet hours end",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        groups = SupportGroup.objects.filter(memberships__user=user).order_by("name")
        field = self.fields["opt_outs"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [
            (f"{family}:{group.pk}", f"{group.name}: {label.lower()}")
            for group in groups
            for family, label in Family.choices
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if (start is None) != (end is None):
            raise forms.ValidationError(
                "Give both a start and an end for quiet hours, or leave both empty."
            )
        if start is not None and start == end:
            raise forms.ValidationError("Quiet hours need a start and end that differ.")
        return data
