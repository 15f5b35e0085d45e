from __future__ import annotations

from django import forms
from django_countries import countries

from .models import CareResource, GroupSafetyPolicy, Report


class CountryForm(forms.Form):
    country = forms.ChoiceField(
        label="Show resources for",
        required=False,
        choices=[("", "Anywhere (international)"), *countries],
    )


class PinForm(forms.Form):
    resource = forms.ModelChoiceField(
        queryset=CareResource.objects.active(),
        label="Resource to pin",
        empty_label="Choose a resource",
    )


class PolicyForm(forms.ModelForm):
    class Meta:
        model = GroupSafetyPolicy
        fields = ["concern_action"]
        labels = {"concern_action": "Concern-tier messages"}


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(choices=Report.Outcome.choices)


class AcceptForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=2_000_000_000)
