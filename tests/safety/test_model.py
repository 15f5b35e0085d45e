"""The screener's corpus, its learned layer, and how the two layers combine.

Quality is measured on the corpus's test part, which was written separately
and never used to write rules or fit the model (docs/safety.md).
"""

from __future__ import annotations

import json

import pytest

from safety import model as M
from safety import quality, screening
from safety.screening import NONE, SET_ASIDE, Result, decide, screen

ISSUE_HARD_NEGATIVES = {
    "hard:idiom",
    "hard:negation",
    "hard:recovery",
    "hard:facilitator",
    "hard:medication",
    "hard:games_films",
    "hard:grief",
    "hard:chores_joke",
}


@pytest.fixture(scope="module")
def train() -> list[quality.Line]:
    return quality.load(quality.TRAIN)


@pytest.fixture(scope="module")
def test_part() -> list[quality.Line]:
    return quality.load(quality.TEST)


def test_the_corpus_is_big_and_varied(train, test_part) -> None:  # type: ignore[no-untyped-def]
    assert len(train) + len(test_part) >= 3000
    assert len(test_part) >= 600
    for part in (train, test_part):
        assert {line.tier for line in part} == set(screening.TIERS)
        assert {line.kind for line in part} >= ISSUE_HARD_NEGATIVES
        for register in ("euphemism", "leet", "spaced", "confusable", "emoji"):
            assert any(line.kind == register for line in part), register
    relations = {"child", "partner", "parent", "friend", "coworker"}
    assert relations <= {line.kind for line in test_part if line.tier == "third_party"}


def test_the_test_part_shares_no_line_with_the_training_part(  # type: ignore[no-untyped-def]
    train, test_part
) -> None:
    seen = {quality.key(line.text) for line in train}
    shared = [line.source for line in test_part if quality.key(line.text) in seen]
    assert not shared


def test_a_malformed_corpus_line_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.tsv").write_text("concern\tplain\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv:1"):
        quality.load(tmp_path)


# --- decide: how the rules and the model combine ------------------------------------

MODEL = M.Model(
    classes=("none", "concern", "third_party", "method", "imminent"),
    intercepts=(0, 0, 0, 0, 0),
    weights={},
    thresholds={
        "flag": 0.8,
        "flag_set_aside": 0.95,
        "held": 0.4,
        "veto": 0.9,
        "soft": 0.4,
    },
)


def probs(
    none: float,
    concern: float = 0,
    third: float = 0,
    method: float = 0,
    imminent: float = 0,
) -> dict[str, float]:
    return {
        "none": none,
        "concern": concern,
        "third_party": third,
        "method": method,
        "imminent": imminent,
    }


def test_the_rules_tier_stands_when_the_model_agrees_or_is_less_urgent() -> None:
    by_rules = Result("imminent", ("imminent.intent_with_time_or_place",))
    assert decide(by_rules, probs(0.1, concern=0.9), MODEL) is by_rules
    assert decide(by_rules, probs(0.99, concern=0.01), MODEL) is by_rules


def test_the_model_raises_a_tier_the_rules_missed() -> None:
    assert decide(NONE, probs(0.1, imminent=0.6, concern=0.3), MODEL).tier == "imminent"
    assert (
        decide(NONE, probs(0.1, method=0.5, imminent=0.1, concern=0.3), MODEL).tier
        == "method"
    )
    assert (
        decide(NONE, probs(0.15, third=0.6, concern=0.25), MODEL).tier == "third_party"
    )
    raised = decide(
        Result("concern", ("concern.burden",)), probs(0.05, imminent=0.9), MODEL
    )
    assert raised.tier == "imminent"
    assert raised.reasons[0] == "model.imminent"


def test_a_concern_only_the_rules_saw_becomes_a_gentle_check_in_when_the_model_is_sure() -> (
    None
):
    result = decide(
        Result("concern", ("concern.want_to_die",)), probs(0.95, concern=0.05), MODEL
    )
    assert result.tier == "none"
    assert result.uncertain
    assert "model.veto" in result.reasons
    # A more urgent tier is never vetoed.
    held = Result("method", ("method.seek",))
    assert decide(held, probs(0.99, concern=0.01), MODEL) is held


def test_uncertain_messages_get_the_gentle_check_in_and_nothing_else() -> None:
    soft = decide(NONE, probs(0.5, concern=0.5), MODEL)
    assert soft.tier == "none"
    assert soft.uncertain
    assert not soft.flagged
    assert decide(NONE, probs(0.7, concern=0.3), MODEL) == NONE


def test_words_the_rules_set_aside_need_a_surer_model() -> None:
    sure = probs(0.1, concern=0.9)
    assert decide(NONE, sure, MODEL).tier == "concern"
    assert decide(SET_ASIDE, sure, MODEL).tier == "none"
    assert decide(SET_ASIDE, probs(0.02, concern=0.98), MODEL).tier == "concern"


# --- the shipped model ----------------------------------------------------------------


def test_the_shipped_scorer_gives_scikit_learns_probabilities(test_part) -> None:  # type: ignore[no-untyped-def]
    """Fit the shipped model's pipeline again and compare: the pure-Python
    scorer must give what scikit-learn gives, up to the weights' rounding."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    import train_screener

    data = json.loads(M.MODEL_FILE.read_text(encoding="utf-8"))
    lines = train_screener.training_lines()
    pipeline = train_screener.pipeline(data["C"], vocabulary=sorted(data["weights"]))
    pipeline.fit([x.text for x in lines], [x.tier for x in lines])
    sample = [line.text for line in test_part[::7]]
    expected = pipeline.predict_proba(sample)
    order = [list(pipeline.classes_).index(c) for c in data["classes"]]
    shipped = M.load()
    for text, row in zip(sample, expected, strict=True):
        items = screening.normalised(text)
        got = shipped.probabilities(M.features(items, screening.scan(items)[1]))
        for k, name in zip(order, data["classes"], strict=True):
            assert got[name] == pytest.approx(row[k], abs=0.01), text


def test_screening_stays_deterministic_and_quiet_on_empty_text() -> None:
    assert screen("") == NONE
    assert screen("   \n") == NONE
    text = "ngl i dont see the point of any of it anymore"
    assert screen(text) == screen(text)


# Figures on the test part as last measured (docs/safety.md), rounded
# down; a change that makes them worse fails here. Raise them when the
# screener improves. (The issue's targets are 0.90, 0.85, 0.80 and 0.03.)
FLOOR = {
    "recall_held": 0.82,
    "recall_concern": 0.75,
    "recall_third_party": 0.85,
    "precision_held": 0.89,
    "precision_concern": 0.89,
}
CEILING_FALSE_ALARMS = 0.07


def test_quality_on_the_test_part_does_not_fall(test_part) -> None:  # type: ignore[no-untyped-def]
    figures = quality.evaluate(test_part, screen).figures()
    for key, floor in FLOOR.items():
        assert figures[key] >= floor, (key, figures[key])
    assert figures["false_alarm_rate"] <= CEILING_FALSE_ALARMS
