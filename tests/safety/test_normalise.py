"""Text normalisation: the fast paths give what the plain versions gave."""

from __future__ import annotations

import random
import sys
import unicodedata

import pytest

from safety import normalise


def _plain_clean_chars(text: str) -> str:
    """clean_chars as first written: one Python step per character."""
    text = unicodedata.normalize("NFKC", text).translate(normalise._INVISIBLE)
    for emoji, word in normalise._EMOJI_WORDS.items():
        text = text.replace(emoji, word)
    for old, new in normalise._PUNCTUATION_PAIRS:
        text = text.replace(old, new)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    fold = len(text) <= 300 or sum(ch.isascii() for ch in text) * 4 >= len(text)
    if fold:
        text = text.translate(normalise._CONFUSABLES)
    text = text.casefold()
    if fold:
        text = text.translate(normalise._CONFUSABLES)
    return normalise._INNER_SYMBOL.sub(lambda m: "i" if m.group() == "!" else "l", text)


def _plain_collapse_runs(token: str, limit: int) -> str:
    out, previous, run = [], "", 0
    for ch in token:
        run = run + 1 if ch == previous else 1
        previous = ch
        if run <= limit:
            out.append(ch)
    return "".join(out)


def _samples() -> list[str]:
    rng = random.Random(7)
    pieces = [
        *"aeiouk1!|_'. ,",
        "su\u00efcide",
        "e\u0301\u0302",
        "\u200b",
        "\u202e",
        "\u00ad",
        "\u0456",
        "\u043e",
        "\u2019",
        "`",
        "\U0001f48a",
        "\U0001f49b",
        "\ufdfa",
        "\u01c5",
        "\uff4b",
        "x\U0001d165",
        "\U000101fd",
        "\u0e49",
    ]
    samples = ["".join(rng.choices(pieces, k=rng.randint(1, 40))) for _ in range(2000)]
    # Random code points from every plane, marks among them.
    samples += [
        "".join(chr(rng.randint(0x20, 0x2FFFF)) for _ in range(rng.randint(1, 30)))
        for _ in range(1000)
    ]
    return samples


def test_clean_chars_matches_the_per_character_version() -> None:
    for text in _samples():
        assert normalise.clean_chars(text) == _plain_clean_chars(text), ascii(text)


def test_no_replacement_holds_a_character_that_its_table_maps() -> None:
    # _replace_each stands in for str.translate only under this condition.
    for pairs in (normalise._INVISIBLE_PAIRS, normalise._PUNCTUATION_PAIRS):
        mapped = {old for old, _ in pairs}
        assert not any(ch in mapped for _, new in pairs for ch in new)


def test_the_mark_patterns_hold_every_combining_mark_and_nothing_else() -> None:
    marks, rare_marks = normalise._marks()
    for code in range(0x10000):
        ch = chr(code)
        assert bool(marks.fullmatch(ch)) == bool(unicodedata.combining(ch)), hex(code)
    beyond = [
        code
        for code in range(0x10000, sys.maxunicode + 1)
        if unicodedata.combining(chr(code))
    ]
    assert all(rare_marks.fullmatch(chr(code)) for code in beyond)
    # Emoji sit past the stretch that needs the slow path.
    assert not rare_marks.search("\U0001f48a\U0001f49b\U0001faa2")


@pytest.mark.parametrize("limit", [1, 2])
def test_collapse_runs_matches_the_letter_by_letter_version(limit: int) -> None:
    rng = random.Random(limit)
    for _ in range(5000):
        token = "".join(
            rng.choice("aab\u00e9\n\U0001f48a") * rng.choice([1, 1, 2, 3, 9])
            for _ in range(rng.randint(0, 12))
        )
        want = _plain_collapse_runs(token, limit)
        assert normalise._collapse_runs(token, limit) == want


def test_underscores_separate_words() -> None:
    assert normalise.plain("kill_myself __ now_") == "kill myself now"


def test_repeated_boundaries_count_once() -> None:
    assert normalise.tokens("a.. , ,b !? ' . c") == ["a", ".", ",", "b", ".", "c"]


def test_the_look_alike_table_is_built_from_unicodes_confusables() -> None:
    """safety/data/confusables.tsv is exactly what the build script makes
    from Unicode's confusables.txt (shipped by the `confusables` package)."""
    from scripts import build_confusables

    version, pairs = build_confusables.build(build_confusables.source_text())
    assert version  # the file names its Unicode version
    assert normalise._CONFUSABLES_FILE.read_text(encoding="utf-8") == (
        build_confusables.render(version, pairs)
    )
    # Capitals listed by Unicode, and their small letters.
    assert (
        normalise.clean_chars("\u041a\u0456ll \u043c\u0443s\u0435lf") == "kill myself"
    )


@pytest.mark.parametrize(
    "disguised",
    [
        "\u0456 w\u0430nt t\u043e k\u0456ll m\u0443s\u0435lf",  # Cyrillic
        "i w\u03b1nt t\u03bf kill mys\u03b5lf",  # Greek
        "\uff49 \uff57\uff41\uff4e\uff54 \uff54\uff4f kill myself",  # fullwidth
        "\U0001d422 \U0001d430\U0001d41a\U0001d427\U0001d42d to kill myself",  # maths bold
    ],
)
def test_look_alikes_screen_like_plain_text(disguised: str) -> None:
    """M-05: obfuscated crisis language gets the tier of the plain text."""
    from safety.screening import screen

    assert screen(disguised).tier == screen("i want to kill myself").tier != "none"
