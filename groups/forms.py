from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from accounts.forms import DisplayNameField
from accounts.models import timezone_choices

from .models import (
    Frequency,
    JoinRequest,
    Meeting,
    Membership,
    Role,
    SupportGroup,
    Topic,
    Weekday,
    WeekOfMonth,
)


class DateInput(forms.DateInput):
    input_type = "date"


def validate_schedulable(day: dt.date) -> None:
    """Sessions are planned within a sane window around today."""
    today = timezone.localdate()
    earliest, latest = (
        today - dt.timedelta(days=366),
        today + dt.timedelta(days=3 * 366),
    )
    if not earliest <= day <= latest:
        raise forms.ValidationError(
            "Choose a date between %(earliest)s and %(latest)s.",
            code="out_of_range",
            params={"earliest": earliest.isoformat(), "latest": latest.isoformat()},
        )


class TimeInput(forms.TimeInput):
    input_type = "time"


class GroupForm(forms.ModelForm):
    timezone = forms.ChoiceField(
        choices=timezone_choices, help_text="Sessions are scheduled in this zone."
    )

    class Meta:
        model = SupportGroup
        fields = [
            "name",
            "description",
            "topic",
            "guidelines",
            "capacity",
            "visibility",
            "region",
            "timezone",
        ]
        widgets = {"visibility": forms.RadioSelect}

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if len(name) < 3:
            raise forms.ValidationError(
                "Give the group a name of at least 3 characters."
            )
        return name


class JoinRequestForm(forms.ModelForm):
    class Meta:
        model = JoinRequest
        fields = ["message"]
        widgets = {"message": forms.Textarea(attrs={"rows": 3})}
        labels = {"message": "A note for the facilitators (optional)"}


class InvitationForm(forms.Form):
    label = forms.CharField(
        max_length=80, required=False, help_text="Only facilitators see this."
    )
    days = forms.IntegerField(
        min_value=1, max_value=90, initial=14, label="Valid for (days)"
    )
    max_uses = forms.IntegerField(
        min_value=1,
        max_value=500,
        required=False,
        initial=1,
        label="How many people may use it",
        help_text="Leave empty for a link anyone may use until it expires.",
    )


class MembershipNameForm(forms.ModelForm):
    display_name = DisplayNameField(
        label="Your name in this group",
        required=False,
        help_text="Leave empty to use your profile's display name.",
    )

    class Meta:
        model = Membership
        fields = ["display_name"]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class MeetingForm(forms.Form):
    """One-off session, or the local time of a series occurrence."""

    title = forms.CharField(max_length=120)
    description = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note for members",
    )
    day = forms.DateField(
        widget=DateInput, label="Date", validators=[validate_schedulable]
    )
    at = forms.TimeField(widget=TimeInput, label="Start time")
    duration_minutes = forms.IntegerField(
        min_value=15, max_value=240, initial=60, label="Length (minutes)"
    )
    capacity = forms.IntegerField(
        min_value=1,
        max_value=500,
        required=False,
        label="Seats",
        help_text="Leave empty to use the group's capacity.",
    )

    def __init__(self, *args: Any, zone_name: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["at"].help_text = (
            f"In the group's time zone, {zone_name}. If a clock change makes the "
            "time not exist, it moves forward by the change; if it happens twice, "
            "the first one is used."
        )

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "day": data["day"],
            "at": data["at"],
            "duration_minutes": data["duration_minutes"],
            "capacity": data["capacity"],
        }


class MeetingEditForm(MeetingForm):
    SCOPE_CHOICES = [
        ("one", "Only this session"),
        ("series", "This and all future sessions in the series"),
    ]
    scope = forms.ChoiceField(
        choices=SCOPE_CHOICES, widget=forms.RadioSelect, initial="one", required=False
    )

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, zone_name=meeting.timezone, **kwargs)
        if meeting.series_id is None:
            del self.fields["scope"]


class SeriesForm(forms.Form):
    title = forms.CharField(max_length=120)
    description = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note for members",
    )
    frequency = forms.ChoiceField(choices=Frequency.choices, widget=forms.RadioSelect)
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int)
    week_of_month = forms.TypedChoiceField(
        choices=[("", "—"), *WeekOfMonth.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Week of the month",
        help_text="Only for monthly series.",
    )
    local_time = forms.TimeField(widget=TimeInput, label="Start time")
    starts_on = forms.DateField(
        widget=DateInput, label="First date", validators=[validate_schedulable]
    )
    ends_on = forms.DateField(
        widget=DateInput,
        required=False,
        label="Last date (optional)",
        validators=[validate_schedulable],
    )
    duration_minutes = forms.IntegerField(
        min_value=15, max_value=240, initial=60, label="Length (minutes)"
    )
    capacity = forms.IntegerField(
        min_value=1,
        max_value=500,
        required=False,
        label="Seats",
        help_text="Leave empty to use the group's capacity.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("frequency") == Frequency.MONTHLY and not data.get("week_of_month"):
            self.add_error("week_of_month", "Choose which week of the month.")
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The last date has to be after the first date.")
        return data


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(max_length=100, required=False, label="Search")
    topic = forms.ChoiceField(
        choices=[("", "All topics"), *Topic.choices], required=False
    )
