from __future__ import annotations

import time

import pytest
from django.core.exceptions import ValidationError

from safety import filters
from safety.filters import check_words
from safety.models import WordAllow, WordRule

pytestmark = pytest.mark.django_db


def test_no_rules_allows_everything() -> None:
    assert check_words("anything at all").action == "allow"


def test_whole_word_rules_apply_after_normalisation() -> None:
    rule = WordRule.objects.create(word="hell", action="flag")
    for text in (
        "what the hell",
        "what the HELL",
        "what the h3ll",
        "what the he11",
        "what the h\u200bell",
        "what the hellllll",
    ):
        result = check_words(text)
        assert result.action == "flag", text
        assert result.rule_ids == (rule.pk,)
    for text in ("hello there", "shell", "hellish? no: helical"):
        assert check_words(text).action == "allow", text


def test_part_word_rules_respect_the_allowlist() -> None:
    WordRule.objects.create(word="hell", whole_word=False, action="hold")
    assert check_words("hellhole").action == "hold"
    assert check_words("hello").action == "hold"
    WordAllow.objects.create(word="hello")
    assert check_words("hello").action == "allow"
    assert check_words("Hello, hellhole").action == "hold"


def test_patterns_and_phrases() -> None:
    WordRule.objects.create(word="idiot*", is_pattern=True, action="block")
    WordRule.objects.create(word="shut up", action="flag")
    assert check_words("you idiots").action == "block"
    assert check_words("how idiotic").action == "block"
    assert check_words("please shut   up").action == "flag"
    assert check_words("shut the door, up we go").action == "allow"


def test_strongest_action_wins_and_explains_itself() -> None:
    WordRule.objects.create(word="darn", action="flag")
    block = WordRule.objects.create(
        word="blast", action="block", explanation="We keep it gentle here."
    )
    result = check_words("darn, blast it")
    assert result.action == "block"
    assert block.pk in result.rule_ids and len(result.rule_ids) == 2
    assert result.explanation_for_sender == "We keep it gentle here."
    assert not result.allowed
    WordRule.objects.create(word="heck", action="hold")
    held = check_words("heck")
    assert held.action == "hold" and held.explanation_for_sender


def test_language_and_inactive_rules() -> None:
    WordRule.objects.create(word="mist", language="de", action="flag")
    WordRule.objects.create(word="fog", language="", action="flag")
    WordRule.objects.create(word="rain", action="flag", active=False)
    assert check_words("mist").action == "allow"
    assert check_words("mist", language="de").action == "flag"
    assert check_words("fog", language="fr").action == "flag"
    assert check_words("rain").action == "allow"


def test_saving_a_rule_invalidates_the_compiled_cache() -> None:
    assert check_words("bother").action == "allow"
    rule = WordRule.objects.create(word="bother", action="flag")
    assert check_words("bother").action == "flag"
    rule.active = False
    rule.save()
    assert check_words("bother").action == "allow"
    rule.delete()
    assert check_words("bother").action == "allow"


def test_cache_outage_keeps_the_compiled_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    WordRule.objects.create(word="bother", action="flag")
    assert check_words("bother").action == "flag"

    class Down:
        def get(self, *args: object, **kwargs: object) -> None:
            raise ConnectionError("cache down")

    monkeypatch.setattr(filters, "cache", Down())
    monkeypatch.setattr(filters, "_state", {**filters._state, "checked": 0.0})
    assert check_words("bother").action == "flag"


def test_pattern_validation() -> None:
    with pytest.raises(ValidationError):
        WordRule(word="a*b", is_pattern=True).full_clean()
    with pytest.raises(ValidationError):
        WordRule(word="***", is_pattern=True).full_clean()
    WordRule(word="*ab*", is_pattern=True).full_clean()


def test_linear_on_long_input() -> None:
    for word in ("alpha", "beta gamma", "delta*"):
        WordRule.objects.create(word=word, is_pattern="*" in word, whole_word=True)
    WordRule.objects.create(word="eps", whole_word=False)
    check_words("warm")
    for text in ("beta " * 1600, "a" * 8192, "deltadelta " * 740, "x y " * 2048):
        start = time.perf_counter()
        check_words(text)
        assert time.perf_counter() - start < 0.05
