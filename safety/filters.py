"""Word filters: admin-managed rules applied to normalised text.

    check_words(text, language="en") -> FilterResult(action, rule_ids,
                                                     explanation_for_sender)

Rules are compiled once per process and rebuilt when any rule or allowed
word changes: saving one bumps a version number in the shared cache, and
every process compares it at most every few seconds. If the cache is down,
the process keeps the rules it has (filters must not fail with Redis).

Matching is linear in the text: the text is tokenised once (see
`safety.normalise`), whole-word rules are looked up in a token trie, and
part-word rules (and * patterns) are plain substring, prefix or suffix
checks on each token that is not on the allowlist.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from django.core.cache import cache

from . import normalise

log = logging.getLogger(__name__)

Action = Literal["allow", "flag", "hold", "block"]
_ORDER: dict[str, int] = {"allow": 0, "flag": 1, "hold": 2, "block": 3}
VERSION_KEY = "safety:word-rules:version"
RECHECK_SECONDS = 5.0

DEFAULT_EXPLANATIONS = {
    "block": "This message wasn't sent: it uses words this community has agreed "
    "not to use. You're welcome to say it another way.",
    "hold": "A facilitator will look at this message before the group sees it.",
}


@dataclass(frozen=True)
class FilterResult:
    action: Action
    rule_ids: tuple[int, ...] = ()
    explanation_for_sender: str = ""

    @property
    def allowed(self) -> bool:
        return self.action in ("allow", "flag")


ALLOW = FilterResult("allow")


@dataclass(frozen=True)
class _Rule:
    id: int
    action: str
    explanation: str


@dataclass
class _Compiled:
    # Whole-word phrases: a trie over tokens.
    trie: dict[str, object] = field(default_factory=dict)
    # Part-word rules: (needle, mode, rule) with mode "in", "prefix", "suffix".
    partial: list[tuple[str, str, _Rule]] = field(default_factory=list)
    allow: set[str] = field(default_factory=set)
    vocabulary: set[str] = field(default_factory=set)


_END = ""
_lock = threading.Lock()
_state: dict[str, object] = {"version": None, "checked": 0.0, "compiled": {}}


def _current_version() -> object:
    try:
        return cache.get(VERSION_KEY, 0)
    except Exception:  # the cache is down: keep what we have
        log.warning("word-rule version check failed; keeping compiled rules")
        return _state["version"]


def invalidate() -> None:
    """Call after any rule change (the model signals do)."""
    try:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.set(VERSION_KEY, 1, None)
    except Exception:
        log.warning("word-rule version bump failed")
    with _lock:
        _state["version"] = None
        _state["compiled"] = {}


def _compile(language: str) -> _Compiled:
    from .models import WordAllow, WordRule

    compiled = _Compiled()
    rules = WordRule.objects.filter(active=True, language__in=["", language])
    for row in rules:
        rule = _Rule(row.pk, row.action, row.explanation)
        word = row.word.strip()
        starts = row.is_pattern and word.startswith("*")
        ends = row.is_pattern and word.endswith("*")
        parts = normalise.plain(word.strip("*") if row.is_pattern else word).split()
        if not parts:
            continue
        compiled.vocabulary.update(parts)
        if len(parts) == 1 and (starts or ends or not row.whole_word):
            if (starts and ends) or (not row.whole_word and not (starts or ends)):
                mode = "in"
            else:
                mode = "suffix" if starts else "prefix"
            compiled.partial.append((parts[0], mode, rule))
            continue
        node = compiled.trie
        for part in parts:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node.setdefault(_END, []).append(rule)  # type: ignore[attr-defined]
    for allowed in WordAllow.objects.filter(language__in=["", language]):
        compiled.allow.update(normalise.plain(allowed.word).split())
    return compiled


def _rules(language: str) -> _Compiled:
    now = time.monotonic()
    with _lock:
        fresh = now - float(_state["checked"]) < RECHECK_SECONDS  # type: ignore[arg-type]
        compiled: dict[str, _Compiled] = _state["compiled"]  # type: ignore[assignment]
    if not fresh:
        version = _current_version()
        with _lock:
            if version != _state["version"]:
                _state["compiled"] = compiled = {}
                _state["version"] = version
            _state["checked"] = now
    found = compiled.get(language)
    if found is None:
        found = _compile(language)
        with _lock:
            compiled[language] = found
    return found


def check_words(text: str, *, language: str = "en") -> FilterResult:
    """The strongest action of every rule the text trips, with the rule ids
    and an explanation for the sender (empty for allow and flag)."""
    if not text:
        return ALLOW
    rules = _rules(language[:10])
    if not rules.trie and not rules.partial:
        return ALLOW
    words = [
        t
        for t in normalise.tokens(text, vocabulary=rules.vocabulary)
        if t not in (normalise.SENTENCE, normalise.PAUSE)
    ]
    hits: dict[int, _Rule] = {}
    for start in range(len(words)):
        node: dict[str, object] | None = rules.trie
        for position in range(start, len(words)):
            node = node.get(words[position])  # type: ignore[assignment,union-attr]
            if node is None:
                break
            for rule in node.get(_END, ()):  # type: ignore[attr-defined]
                if not (start == position and words[start] in rules.allow):
                    hits[rule.id] = rule
        token = words[start]
        if rules.partial and token not in rules.allow:
            for needle, mode, rule in rules.partial:
                if (
                    (mode == "in" and needle in token)
                    or (mode == "prefix" and token.startswith(needle))
                    or (mode == "suffix" and token.endswith(needle))
                ):
                    hits[rule.id] = rule
    if not hits:
        return ALLOW
    strongest = max(hits.values(), key=lambda r: _ORDER[r.action])
    action: Action = strongest.action  # type: ignore[assignment]
    explanation = ""
    if action in DEFAULT_EXPLANATIONS:
        explanation = strongest.explanation or DEFAULT_EXPLANATIONS[action]
    return FilterResult(action, tuple(sorted(hits)), explanation)
