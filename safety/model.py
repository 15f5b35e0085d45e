"""The learned layer of the crisis screener: a linear model over word and
character n-grams of the normalised text.

It is trained at build time by `scripts/train_screener.py` (scikit-learn,
logistic regression) on the training part of the corpus in
`safety/corpus/train/`, and shipped as `safety/data/screening_model.json`:
the classes, an intercept per class, and a weight per class for each kept
feature. Scoring needs nothing but this module: the features of a message,
a sum of weights and a softmax. It is deterministic and makes no network
calls. docs/safety.md says how it was chosen and how well it does on text
it never saw.

The features are computed from the screener's own normalised tokens
(`safety.normalise.tokens`), so leetspeak, look-alike letters, spaced-out
letters, contractions and slang reach the model already folded.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from . import normalise
from . import screening_rules as R

MODEL_FILE = Path(__file__).resolve().parent / "data" / "screening_model.json"

# Character n-grams of each word (with a space on either side) of these sizes.
CHAR_SIZES = (3, 4, 5)
# Only the first words of a very long text are scored: the rules see all of
# it, and a reflection's risk lines do not hide past this point any better
# than the rules find them.
MAX_WORDS = 200
_BOUNDARY = "|"
CHAT_WORDS = 60
# Character n-grams come from at most this many letters of a word, so a
# 2,000-letter "word" costs no more than a long ordinary one.
MAX_WORD = 32
# A message with few known features counts as if it had this many, so a
# single word that shares a few letters with a risk word ("blast", "last")
# cannot be scored as surely as a sentence (the training script scales the
# same way).
MIN_FEATURES = 20
# A negation ("not", "never") marks the next few words, up to a boundary or
# a conjunction, so "do not want to die" and "want to die" differ.
_NEGATION_REACH = 5


def features(items: Sequence[str], hints: Iterable[str] = ()) -> set[str]:
    """The n-gram features of normalised tokens (`normalise.tokens`), plus
    the rules' hints (`screening.scan`: which phrases they found, and
    whether live, past or set aside)."""
    words: list[str] = []
    for token in items[: MAX_WORDS * 2]:
        if token in (normalise.SENTENCE, normalise.PAUSE):
            if words and words[-1] != _BOUNDARY:
                words.append(_BOUNDARY)
        else:
            words.append(token)
        if len(words) >= MAX_WORDS:
            break
    found: set[str] = {"h " + hint for hint in hints}
    add = found.add
    previous = _BOUNDARY
    negated = 0
    for word in words:
        if word == _BOUNDARY or word in R.CONJUNCTIONS:
            negated = 0
        if word != _BOUNDARY:
            add(("n " if negated else "w ") + word)
            found.update(_grams(word))
            if negated:
                negated -= 1
            if word in R.NEGATIONS:
                negated = _NEGATION_REACH
            elif word in R.HEDGES and previous in R.NEGATIONS:
                negated = 0
        if previous != _BOUNDARY or word != _BOUNDARY:
            add(f"b {previous} {word}")
        previous = word
    if previous != _BOUNDARY:
        add(f"b {previous} {_BOUNDARY}")
    return found


def chat_sized(items: Sequence[str]) -> bool:
    """Is this about as long as a chat line (CHAT_WORDS words or fewer)? The
    model was trained on chat lines; on longer text one risky sentence is
    diluted by the rest, so its "this is ordinary" is not to be trusted."""
    if len(items) <= CHAT_WORDS:
        return True
    words = sum(1 for t in items if t not in (normalise.SENTENCE, normalise.PAUSE))
    return words <= CHAT_WORDS


@lru_cache(maxsize=8_192)
def _grams(word: str) -> tuple[str, ...]:
    """A word's character n-grams (worked out once per word per process)."""
    padded = f" {word[:MAX_WORD]} "
    return tuple(
        "c" + padded[start : start + size]
        for size in CHAR_SIZES
        for start in range(len(padded) - size + 1)
    )


@dataclass(frozen=True)
class Model:
    classes: tuple[str, ...]
    intercepts: tuple[float, ...]
    weights: dict[str, tuple[float, ...]]
    # Decision thresholds chosen on the training part (docs/safety.md).
    thresholds: dict[str, float]
    # "both": the rules' verdict and the model's combine; "model": the rules
    # only inform the model (as features). Chosen by the training script.
    layers: str = "both"

    def probabilities(self, feats: Iterable[str]) -> dict[str, float]:
        """Class probabilities, as scikit-learn's predict_proba gives them for
        a binary vector of the kept features scaled by 1/sqrt(n), where n is
        how many of them are present, or MIN_FEATURES if that is more."""
        rows = [w for f in feats if (w := self.weights.get(f)) is not None]
        scores = list(self.intercepts)
        if rows:
            scale = 1.0 / math.sqrt(max(len(rows), MIN_FEATURES))
            for k, total in enumerate(map(sum, zip(*rows, strict=True))):
                scores[k] += total * scale
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        norm = sum(exps)
        return {c: e / norm for c, e in zip(self.classes, exps, strict=True)}


def from_dict(data: dict[str, Any]) -> Model:
    return Model(
        classes=tuple(data["classes"]),
        intercepts=tuple(float(x) for x in data["intercepts"]),
        weights={feature: tuple(row) for feature, row in data["weights"].items()},
        thresholds={k: float(v) for k, v in data["thresholds"].items()},
        layers=str(data.get("layers", "both")),
    )


@cache
def load() -> Model:
    return from_dict(json.loads(MODEL_FILE.read_text(encoding="utf-8")))
