from __future__ import annotations

from typing import Any

from django import forms

from groups.models import Meeting, MeetingSeries, SupportGroup
from prompts.models import Intensity, Kind, PromptVersion, SessionPlan, Theme
from prompts.services.library import LibraryFilter
from prompts.services.workflow import PromptContent


class LibraryFilterForm(forms.Form):
    q = forms.CharField(label="Search", max_length=100, required=False)
    kind = forms.ChoiceField(choices=[("", "Any kind"), *Kind.choices], required=False)
    theme = forms.ChoiceField(required=False)
    intensity = forms.ChoiceField(
        choices=[("", "Any intensity"), *Intensity.choices], required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Kept: the library labels its rows with these, without a query.
        self.themes = list(Theme.objects.all())
        choices = [(t.slug, t.name) for t in self.themes]
        self.fields["theme"].choices = [("", "Any theme"), *choices]  # type: ignore[attr-defined]

    def to_filter(self) -> LibraryFilter:
        """Invalid choices are ignored rather than failing the page."""
        data = self.cleaned_data if self.is_valid() else {}
        return LibraryFilter(
            query=data.get("q", ""),
            kind=data.get("kind", ""),
            theme=data.get("theme", ""),
            intensity=data.get("intensity", ""),
        )


class PromptForm(forms.Form):
    title = forms.CharField(max_length=120)
    text = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=PromptVersion._meta.get_field("text").help_text,
    )
    kind = forms.ChoiceField(choices=Kind.choices)
    themes = forms.ModelMultipleChoiceField(
        queryset=Theme.objects.all(), widget=forms.CheckboxSelectMultiple
    )
    intensity = forms.ChoiceField(choices=Intensity.choices, initial=Intensity.GENTLE)
    content_note = forms.CharField(
        max_length=300,
        required=False,
        help_text="Shown before the prompt is used, so people can choose to pass.",
    )
    suggested_minutes = forms.IntegerField(min_value=1, max_value=90, initial=10)
    follow_up_questions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional: one question a line, up to 10.",
    )
    language = forms.CharField(max_length=16, initial="en")

    def clean_follow_up_questions(self) -> list[str]:
        lines = [
            q.strip() for q in self.cleaned_data["follow_up_questions"].splitlines()
        ]
        questions = [q for q in lines if q]
        if len(questions) > 10:
            raise forms.ValidationError("Up to 10 follow-up questions, please.")
        if any(len(q) > 300 for q in questions):
            raise forms.ValidationError("Keep each question under 300 characters.")
        return questions

    def clean_language(self) -> str:
        from prompts.models.library import validate_language

        value = self.cleaned_data["language"].strip()
        validate_language(value)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("intensity") == Intensity.DEEP and not data.get("content_note"):
            self.add_error("content_note", "A deep prompt needs a content note.")
        return data

    def to_content(self) -> PromptContent:
        data = self.cleaned_data
        return PromptContent(
            title=data["title"],
            text=data["text"],
            kind=data["kind"],
            intensity=data["intensity"],
            suggested_minutes=data["suggested_minutes"],
            themes=list(data["themes"]),
            content_note=data["content_note"],
            follow_up_questions=data["follow_up_questions"],
            language=data["language"],
        )

    @classmethod
    def initial_from(cls, version: PromptVersion) -> dict[str, Any]:
        return {
            "title": version.title,
            "text": version.text,
            "kind": version.kind,
            "themes": list(version.themes.all()),
            "intensity": version.intensity,
            "content_note": version.content_note,
            "suggested_minutes": version.suggested_minutes,
            "follow_up_questions": "\n".join(version.follow_up_questions),
            "language": version.language,
        }


class ReviewForm(forms.Form):
    DECISIONS = [
        ("publish", "Publish"),
        ("changes", "Ask for changes"),
        ("retire", "Retire"),
    ]
    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.RadioSelect)
    comment = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required when asking for changes; the author sees it.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "changes" and not data.get("comment", "").strip():
            self.add_error("comment", "Say what should change, so the author can act.")
        return data


class PlanForm(forms.ModelForm):
    class Meta:
        model = SessionPlan
        fields = ["title", "description", "group", "is_template"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, group_ids: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["group"]
        field.queryset = SupportGroup.objects.filter(pk__in=group_ids)  # type: ignore[attr-defined]
        field.required = False
        field.label = "Share with the facilitators of"
        field.empty_label = "Nobody (only me)"  # type: ignore[attr-defined]


class AddItemForm(forms.Form):
    version = forms.ModelChoiceField(queryset=PromptVersion.objects.published())
    minutes = forms.IntegerField(min_value=1, max_value=240, required=False)


class MinutesForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=240)


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class AttachForm(forms.Form):
    meeting = forms.ModelChoiceField(
        queryset=Meeting.objects.none(), required=False, label="One session"
    )
    series = forms.ModelChoiceField(
        queryset=MeetingSeries.objects.none(), required=False, label="A whole series"
    )

    def __init__(self, *args: Any, group_ids: set[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        meetings = Meeting.objects.upcoming().filter(group_id__in=group_ids)
        self.fields["meeting"].queryset = meetings.select_related("group")  # type: ignore[attr-defined]
        self.fields["series"].queryset = MeetingSeries.objects.filter(  # type: ignore[attr-defined]
            group_id__in=group_ids
        ).select_related("group")
        self.fields["meeting"].label_from_instance = (  # type: ignore[attr-defined]
            lambda m: f"{m.group.name}: {m.title}, {m.local_start:%a %d %b %Y %H:%M}"
        )
        self.fields["series"].label_from_instance = (  # type: ignore[attr-defined]
            lambda s: f"{s.group.name}: {s.title} ({s.describe()})"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("meeting")) == bool(data.get("series")):
            raise forms.ValidationError("Choose one session or one series, not both.")
        return data
