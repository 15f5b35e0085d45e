from __future__ import annotations

from typing import Any

from django import forms

from prompts.models import PromptVersion

from .models import ANSWER_MAX_CHARS, Sharing
from .services import ReflectionPrompt

SCORES = [(str(n), str(n)) for n in range(1, 6)]


class ReflectionForm(forms.Form):
    """One optional text box per prompt, who may read it, and optional
    helpfulness ratings of the prompts the session used."""

    sharing = forms.ChoiceField(
        label="Who may read this?",
        choices=Sharing.choices,
        initial=Sharing.PRIVATE,
        widget=forms.RadioSelect,
        help_text="Private unless you choose otherwise. You can change this later.",
    )

    def __init__(
        self,
        *args: Any,
        prompts: list[ReflectionPrompt],
        to_rate: list[PromptVersion],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.prompts = prompts
        self.to_rate = to_rate
        answers: dict[str, forms.Field] = {}
        for index, prompt in enumerate(prompts):
            answers[f"answer_{index}"] = forms.CharField(
                label=prompt.title,
                required=False,
                max_length=ANSWER_MAX_CHARS,
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text=prompt.text,
                strip=True,
            )
        for version in to_rate:
            answers[f"rating_{version.pk}"] = forms.TypedChoiceField(
                label=f"How helpful was “{version.title}”?",
                choices=[("", "Skip"), *SCORES],
                coerce=int,
                empty_value=None,
                required=False,
                widget=forms.RadioSelect,
                help_text="1 is not helpful, 5 is very helpful.",
            )
        # Prompts first, then ratings, then sharing.
        self.fields = {**answers, "sharing": self.fields["sharing"]}

    def answers(self) -> list[str]:
        return [
            self.cleaned_data.get(f"answer_{i}", "") for i in range(len(self.prompts))
        ]

    def ratings(self) -> dict[int, int]:
        found = {}
        for version in self.to_rate:
            score = self.cleaned_data.get(f"rating_{version.pk}")
            if score:
                found[version.pk] = int(score)
        return found


class SharingForm(forms.Form):
    sharing = forms.ChoiceField(
        label="Who may read this?", choices=Sharing.choices, widget=forms.RadioSelect
    )
