"""The crisis screener: a labelled data set, obfuscation, and speed."""

from __future__ import annotations

import dataclasses
import random
import statistics
import sys
import time

import pytest

from safety import quality
from safety.screening import TIERS, Result, screen

# The development set the phrase rules were first written against. It is
# part of the training corpus now, so these figures are in-sample: they
# guard against regressions; docs/safety.md reports the test part.
CASES = [
    {"tier": line.tier, "text": line.text}
    for line in quality.load(quality.TRAIN)
    if line.source.startswith("development.tsv")
]
RISK_TIERS = [t for t in TIERS if t != "none"]


def _say(*parts: object) -> None:
    """Report lines in the test output (the precision/recall table)."""
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")


def test_the_data_set_is_big_enough() -> None:
    positives = [c for c in CASES if c["tier"] != "none"]
    negatives = [c for c in CASES if c["tier"] == "none"]
    assert len(positives) >= 80
    assert len(negatives) >= 80
    assert {c["tier"] for c in CASES} == set(TIERS)


def _table() -> tuple[dict[str, dict[str, float]], list[tuple[str, str, str]]]:
    predicted = [(c["tier"], screen(c["text"]).tier, c["text"]) for c in CASES]
    stats: dict[str, dict[str, float]] = {}
    for tier in [*RISK_TIERS, "any risk"]:

        def hit(label: str, tier: str = tier) -> bool:
            return label != "none" if tier == "any risk" else label == tier

        tp = sum(1 for want, got, _ in predicted if hit(want) and hit(got))
        fp = sum(1 for want, got, _ in predicted if not hit(want) and hit(got))
        fn = sum(1 for want, got, _ in predicted if hit(want) and not hit(got))
        stats[tier] = {
            "support": tp + fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
        }
    wrong = [(w, g, t) for w, g, t in predicted if w != g]
    return stats, wrong


def test_precision_and_recall_per_tier(capsys: pytest.CaptureFixture[str]) -> None:
    stats, wrong = _table()
    exact = 1 - len(wrong) / len(CASES)
    with capsys.disabled():
        _say("\n\ncrisis screener on the development set (training part)")
        _say(f"{'tier':<12} {'n':>4} {'precision':>10} {'recall':>8}")
        for tier, row in stats.items():
            _say(
                f"{tier:<12} {int(row['support']):>4} "
                f"{row['precision']:>10.3f} {row['recall']:>8.3f}"
            )
        _say(f"exact tier on {len(CASES)} sentences: {exact:.3f}")
        for want, got, text in wrong:
            _say(f"  expected {want}, got {got}: {text}")
    overall = stats["any risk"]
    assert overall["precision"] >= 0.9
    assert overall["recall"] >= 0.9
    for tier in RISK_TIERS:
        assert stats[tier]["recall"] >= 0.85, tier
        assert stats[tier]["precision"] >= 0.85, tier
    assert exact >= 0.9


def test_every_listed_imminent_case_is_caught() -> None:
    missed = [
        c["text"]
        for c in CASES
        if c["tier"] == "imminent" and screen(c["text"]).tier != "imminent"
    ]
    assert missed == []


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "I WANT TO KILL MYSELF",
        "i want to k1ll mys3lf",
        "i want to k!ll myself",
        "i want to kiiiiill myselfff",
        "i want to kill my self",
        "i want to k i l l myself",
        "i want to k.i.l.l myself",
        "i want to ki\u200bll my\u200dself",
        "i want to kill\u202e myself",
        "i want to k\u0456ll myself",  # Cyrillic i
        "\uff49 \uff57\uff41\uff4e\uff54 \uff54\uff4f \uff4b\uff49\uff4c\uff4c "
        "\uff4d\uff59\uff53\uff45\uff4c\uff46",  # full-width letters
        "i wanna kill myslef",
        "i want to unalive myself",
        "i want to kms",
    ],
)
def test_obfuscations_land_on_the_plain_tier(text: str) -> None:
    assert screen(text).tier == screen("I want to kill myself").tier == "concern"


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("su\u200bicidal", "concern"),
        ("s u i c i d a l", "concern"),
        ("5u1c1dal", "concern"),
        ("$uicidal", "concern"),
        ("suicidial", "concern"),
        ("sucidal thoughts", "concern"),
        ("suiicidal", "concern"),
        ("I'm feeling suïcidal", "concern"),
        ("kys", "method"),
        ("k y s", "method"),
    ],
)
def test_misspellings_and_spacing(text: str, tier: str) -> None:
    assert screen(text).tier == tier


def test_result_is_a_small_frozen_value_with_rule_ids_only() -> None:
    text = "I feel like a burden and don't see the point anymore"
    result = screen(text)
    assert isinstance(result, Result)
    assert result.tier == "concern"
    assert result.reasons and all("." in r or r.isidentifier() for r in result.reasons)
    assert all(r not in text.lower() for r in result.reasons)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.tier = "none"  # type: ignore[misc]
    assert screen(text) == result  # deterministic


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200b", "🙂", "...", "1234"])
def test_empty_and_odd_input_is_none(text: str) -> None:
    assert screen(text).tier == "none"


def test_typical_messages_take_well_under_a_millisecond() -> None:
    texts = [c["text"] for c in CASES]
    screen("warm up")
    timings = []
    for _ in range(5):
        for text in texts:
            start = time.perf_counter()
            screen(text)
            timings.append(time.perf_counter() - start)
    mean = statistics.mean(timings)
    median = statistics.median(timings)
    p99 = sorted(timings)[int(len(timings) * 0.99)]
    _say(
        f"\nscreen(): mean {mean * 1e6:.0f} µs, median {median * 1e6:.0f} µs, "
        f"p99 {p99 * 1e6:.0f} µs over {len(timings)} calls"
    )
    # The median is the steady state; the mean and p99 also carry GC pauses
    # and a busy machine, so they get the catalogue's looser bound (M-07).
    assert median < 0.0005
    assert mean < 0.001
    assert p99 < 0.05


ADVERSARIAL = [
    "a" * 8192,
    "s " * 4096,
    "s.u." * 2048,
    "i want to " * 820,
    "not " * 2048,
    "\u200b" * 8192,
    "1" * 8192,
    "@$" * 4096,
    ". , " * 2048,
    "how many pills would " * 390,
    "she will " * 910,
    "years ago i wanted to die " * 315,
    "i want to die tonight " * 372,
    "kill myself not " * 512,
    "suiiiiii" * 1024,
    ("ab" * 999) + "!",
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=lambda t: f"{t[:12]!r}x{len(t)}")
def test_adversarial_8kb_strings_stay_fast(text: str) -> None:
    # Best of five: a loaded CI machine adds pauses that are not the
    # screener's; catastrophic backtracking would show in every run.
    screen("warm up")
    elapsed = _best(text, runs=5)
    assert elapsed < 0.05, f"{elapsed * 1000:.1f} ms"


def _best(text: str, runs: int = 3) -> float:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        screen(text)
        timings.append(time.perf_counter() - start)
    return min(timings)


def test_time_grows_linearly_with_length() -> None:
    unit = "i want to die tonight but years ago not really "
    screen(unit)

    small, large = _best(unit * 40, runs=5), _best(unit * 160, runs=5)
    assert large < small * 4 * 2.5  # linear, with room for noise


def test_2000_character_messages() -> None:
    text = ("I'm exhausted from doing everything myself. " * 50)[:2000]
    assert screen(text).tier == "none"
    assert screen(text[:1900] + " I want to die").tier == "concern"


# The benchmark's kinds of 2,000-character noise (bench/screening_bench.py).
NOISE = [
    "a",
    "l",
    "end ",
    "kil lmy self ",
    "kill myself\u200b",
    "e\u0301\u0302\u0303",
    "really ",
    "(",
    "\U0001f49b",
    " ",
    "\ufdfa",  # NFKC makes 18 characters of each
    "not ",
    "s u ",
    "a, ",
    "".join(random.Random(1).choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(99)),
    "".join(chr(random.Random(2).randint(0x400, 0x4FF)) for _ in range(99)),
]


@pytest.mark.parametrize("unit", NOISE, ids=lambda u: ascii(u[:6]))
def test_a_crisis_sentence_after_2000_characters_of_noise_is_caught(unit: str) -> None:
    # Nothing is cut short for speed: the last sentence of a full-length
    # message is screened like any other.
    sentence = ". I want to kill myself tonight"
    text = (unit * 2000)[: 2000 - len(sentence)] + sentence
    assert len(text) == 2000
    assert screen(text).tier == screen(sentence).tier == "imminent"
