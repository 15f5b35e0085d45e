"""Word-filter rules and the allowlist that keeps them from false hits."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

_PATTERN = re.compile(r"\*?[^*]+\*?")


class FilterAction(models.TextChoices):
    FLAG = "flag", "Flag for facilitators (message is delivered)"
    HOLD = "hold", "Hold for review"
    BLOCK = "block", "Block (the sender is told why)"


class WordRule(models.Model):
    """A watched word or phrase. Matching happens on normalised text, so
    "H3LL" and "hell" are the same. A pattern may start and/or end with *
    ("idiot*" also catches "idiots", "idiotic"); no other syntax, so
    matching stays linear."""

    word = models.CharField(max_length=100)
    is_pattern = models.BooleanField(
        "pattern", default=False, help_text="Treat * at either end as a wildcard."
    )
    whole_word = models.BooleanField(
        default=True,
        help_text="Off: also match inside longer words (the allowlist then "
        "protects words such as 'hello').",
    )
    language = models.CharField(
        max_length=10,
        blank=True,
        default="en",
        help_text="A language code such as 'en'; empty for every language.",
    )
    action = models.CharField(
        max_length=5, choices=FilterAction.choices, default=FilterAction.FLAG
    )
    explanation = models.CharField(
        max_length=200,
        blank=True,
        help_text="Shown to the sender when this rule blocks or holds a message.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["word", "pk"]

    def __str__(self) -> str:
        return f"{self.word} → {self.action}"

    def clean(self) -> None:
        super().clean()
        from safety.normalise import plain

        if self.is_pattern and not _PATTERN.fullmatch(self.word.strip()):
            raise ValidationError(
                {"word": "A * may only stand at the start or the end."}
            )
        if not plain(self.word.replace("*", "")):
            raise ValidationError({"word": "Give at least one letter or digit."})


class WordAllow(models.Model):
    """A word that never counts as a hit, even when a rule matches inside it
    ("hello" for "hell", "scunthorpe")."""

    word = models.CharField(max_length=100)
    language = models.CharField(max_length=10, blank=True, default="en")

    class Meta:
        ordering = ["word", "pk"]
        verbose_name = "allowed word"

    def __str__(self) -> str:
        return self.word
