"""Text normalisation shared by the crisis screener and the word filters.

Everything here runs in linear time: character maps, one tokenising regex
without nested quantifiers, and single passes over the token list. The
output is a list of lowercase ASCII-ish tokens with punctuation kept as
boundary tokens ("." for a sentence end, "," for a pause).

Work per character is kept in C (str.replace, regular expressions without
backtracking) and each distinct word is normalised once per call, so even
2,000 characters built to be slow take well under a millisecond, unless
NFKC multiplies them (docs/safety.md has the figures).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping
from functools import cache
from itertools import chain, filterfalse
from pathlib import Path

# Zero-width characters, soft hyphen, bidi controls and other invisible
# format characters people use to slip words past filters.
_INVISIBLE = dict.fromkeys(
    [
        0x00AD,
        0x034F,
        0x061C,
        0x115F,
        0x1160,
        0x17B4,
        0x17B5,
        0x180E,
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2070),
        0x3164,
        0xFEFF,
        0xFFA0,
    ]
)

# Look-alike letters from other scripts that NFKC leaves alone ("k\u0456ll" with
# a Cyrillic "i"), generated from Unicode's confusables data by
# scripts/build_confusables.py (docs/safety.md).
_CONFUSABLES_FILE = Path(__file__).resolve().parent / "data" / "confusables.tsv"


def _load_confusables() -> dict[int, str]:
    table: dict[int, str] = {}
    for line in _CONFUSABLES_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, target = line.split("\t")
            table[int(code, 16)] = target
    return table


_CONFUSABLES = _load_confusables()
# One C-speed pass says whether a text has any look-alike at all (emoji and
# most scripts have none), so the slower translate runs only when needed.
_CONFUSABLE_CHARS = frozenset(chr(code) for code in _CONFUSABLES)

# Quote marks and line separators that are not look-alikes but read as one.
_PUNCTUATION_PAIRS = (("`", "'"), ("\u2028", "\n"), ("\u2029", "\n"))

# The invisible characters as (character, replacement) pairs for _replace_each.
_INVISIBLE_PAIRS = tuple((chr(code), "") for code in _INVISIBLE)

# A few emoji stand for words the screener needs to see.
_EMOJI_WORDS = {
    "\U0001f48a": " pills ",
    "\U0001f52b": " gun ",
    "\U0001f52a": " knife ",
    "\U0001faa2": " rope ",
}

LEET = str.maketrans(
    {"1": "i", "3": "e", "0": "o", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)

# Words, sentence ends, pauses. The word class includes the leetspeak symbols
# so that "$uicide" and "@" survive as part of a word. "_" is a separator:
# it is turned into a space first, which keeps this one character class
# (a branch per character made tokenising several times slower).
_TOKEN = re.compile(r"[\w@$']+|[.!?;:\n,]")
# Text that is only words and spaces splits into the same tokens, faster.
_WORDS_AND_SPACES = re.compile(r"[\w@$' ]*")
# "k!ll", "k|ll": symbols standing for letters inside a word.
_INNER_SYMBOL = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
_TIME_LIKE = re.compile(r"\d+(?:am|pm|st|nd|rd|th|s|h|m|min|mins|hrs?|k|x)")
_HAS_LETTER = re.compile(r"[a-z]")
_HAS_LEET = re.compile(r"[0-9@$]")
_LEET_PAIRS = tuple((chr(code), new) for code, new in LEET.items())

SENTENCE = "."
PAUSE = ","

# Contractions, written with or without the apostrophe.
_EXPANSIONS: dict[str, tuple[str, ...]] = {
    "i'm": ("i", "am"),
    "im": ("i", "am"),
    "i've": ("i", "have"),
    "ive": ("i", "have"),
    "i'll": ("i", "will"),
    "i'd": ("i", "would"),
    "you're": ("you", "are"),
    "youre": ("you", "are"),
    "she's": ("she", "is"),
    "shes": ("she", "is"),
    "he's": ("he", "is"),
    "it's": ("it", "is"),
    "its": ("it", "is"),
    "that's": ("that", "is"),
    "thats": ("that", "is"),
    "there's": ("there", "is"),
    "theres": ("there", "is"),
    "what's": ("what", "is"),
    "whats": ("what", "is"),
    "they're": ("they", "are"),
    "theyre": ("they", "are"),
    "they'll": ("they", "will"),
    "she'll": ("she", "will"),
    "he'll": ("he", "will"),
    "she'd": ("she", "would"),
    "he'd": ("he", "would"),
    "they'd": ("they", "would"),
    "they've": ("they", "have"),
    "can't": ("can", "not"),
    "cant": ("can", "not"),
    "cannot": ("can", "not"),
    "won't": ("will", "not"),
    "wont": ("will", "not"),
    "don't": ("do", "not"),
    "dont": ("do", "not"),
    "doesn't": ("does", "not"),
    "doesnt": ("does", "not"),
    "didn't": ("did", "not"),
    "didnt": ("did", "not"),
    "isn't": ("is", "not"),
    "isnt": ("is", "not"),
    "aren't": ("are", "not"),
    "arent": ("are", "not"),
    "wasn't": ("was", "not"),
    "wasnt": ("was", "not"),
    "weren't": ("were", "not"),
    "werent": ("were", "not"),
    "wouldn't": ("would", "not"),
    "wouldnt": ("would", "not"),
    "couldn't": ("could", "not"),
    "couldnt": ("could", "not"),
    "shouldn't": ("should", "not"),
    "shouldnt": ("should", "not"),
    "haven't": ("have", "not"),
    "havent": ("have", "not"),
    "hasn't": ("has", "not"),
    "hasnt": ("has", "not"),
    "hadn't": ("had", "not"),
    "hadnt": ("had", "not"),
    "ain't": ("is", "not"),
    "aint": ("is", "not"),
    "wanna": ("want", "to"),
    "gonna": ("going", "to"),
    "gotta": ("got", "to"),
    "tryna": ("trying", "to"),
    "imma": ("i", "am", "going", "to"),
    "ima": ("i", "am", "going", "to"),
    "u": ("you",),
    "r": ("are",),
    "2": ("to",),
    "2nite": ("tonight",),
    "2night": ("tonight",),
    "tonite": ("tonight",),
    "2day": ("today",),
    "2morrow": ("tomorrow",),
    "2moro": ("tomorrow",),
    "tmrw": ("tomorrow",),
    "tmr": ("tomorrow",),
    "tmrow": ("tomorrow",),
    "b4": ("before",),
    "rn": ("right", "now"),
    "cuz": ("because",),
    "coz": ("because",),
    "bc": ("because",),
    "selfharm": ("self", "harm"),
    "selfharming": ("self", "harming"),
    "kms": ("kill", "myself"),
    "kys": ("kill", "yourself"),
    "unalive": ("unalive",),
    # "catch the bus" and "sewer slide": filter-dodging words for suicide.
    "ctb": ("kill", "myself"),
    "sewerslide": ("suicide",),
    "sewersliding": ("suicide",),
    "noone": ("no", "one"),
    "everyones": ("everyone",),
    "every1": ("everyone",),
    "some1": ("someone",),
    "no1": ("no", "one"),
    "any1": ("anyone",),
}

# Two tokens that belong together ("my self", "sui cide").
_JOINABLE = {
    "myself",
    "yourself",
    "herself",
    "himself",
    "themselves",
    "themself",
    "suicide",
    "suicidal",
    "unalive",
    "overdose",
    "hopeless",
    "tonight",
    "goodbye",
    "everyone",
    "sewerslide",
}


def clean_chars(text: str) -> str:
    """NFKC, casefold, invisible characters out, look-alikes (Unicode's
    confusables) and accents folded. Returns text; no tokenising."""
    text = unicodedata.normalize("NFKC", text)
    text = _replace_each(text, _INVISIBLE_PAIRS)
    for emoji, word in _EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji, word)
    text = _replace_each(text, _PUNCTUATION_PAIRS)
    if not text.isascii():
        # Strip accents ("suïcide"), keep the base letters, then fold
        # look-alikes, before and after casefolding (which can make new ones).
        marks, rare_marks = _marks()
        text = marks.sub("", unicodedata.normalize("NFKD", text))
        if rare_marks.search(text):
            text = "".join(filterfalse(unicodedata.combining, text))
        fold = _worth_folding(text)
        if fold and not _CONFUSABLE_CHARS.isdisjoint(text):
            text = _fold(text)
        text = text.casefold()
        if fold and not text.isascii() and not _CONFUSABLE_CHARS.isdisjoint(text):
            text = _fold(text)
    else:
        text = text.casefold()
    if "!" in text or "|" in text:
        text = _INNER_SYMBOL.sub(lambda m: "i" if m.group() == "!" else "l", text)
    return text


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_FOLD_ANY_UP_TO = 300


def _worth_folding(text: str) -> bool:
    """Look-alikes disguise English words. A long text that is mostly in
    another script is not disguised English (and folding it letter by
    letter would cost a microsecond a character): fold a text that is short,
    or at least a quarter ASCII."""
    return len(text) <= _FOLD_ANY_UP_TO or len(
        text.encode("ascii", "ignore")
    ) * 4 >= len(text)


def _fold(text: str) -> str:
    """`text.translate(_CONFUSABLES)`, translating each distinct run of
    non-ASCII characters once: translate costs about a microsecond per
    non-ASCII character, and long texts built to be slow repeat themselves."""
    done: dict[str, str] = {}

    def one(match: re.Match[str]) -> str:
        run = match.group()
        folded = done.get(run)
        if folded is None:
            folded = done[run] = run.translate(_CONFUSABLES)
        return folded

    return _NON_ASCII_RUN.sub(one, text)


def _replace_each(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """`text.translate(table)` for a small table. translate looks every
    non-ASCII character up in a dict (slow on long non-Latin text); one
    C-speed scan per table entry is not. The result is the same because no
    replacement contains a character that the table maps."""
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


@cache
def _marks() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Combining marks in two patterns: those of the Basic Multilingual Plane
    as one character class (a bitmap: one look-up per character, where
    calling unicodedata.combining per character is several times slower),
    and the stretch of plane 1 that holds the rest (historic scripts,
    musical notation; not emoji). Planes 2-16 hold none, which
    tests/safety/test_normalise.py checks. Built once, in ~20 ms."""
    found = [c for c in range(0x20000) if unicodedata.combining(chr(c))]
    bmp = [c for c in found if c < 0x10000]
    runs: list[list[int]] = []
    for code in bmp:
        if runs and runs[-1][1] == code - 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    marks = "".join(rf"\u{a:04x}-\u{b:04x}" for a, b in runs)
    first, last = found[len(bmp)], found[-1]
    return re.compile(f"[{marks}]+"), re.compile(rf"[\U{first:08x}-\U{last:08x}]")


def _deleet(token: str) -> str:
    if not _HAS_LEET.search(token) or not _HAS_LETTER.search(token):
        return token
    if _TIME_LIKE.fullmatch(token):
        return token
    if token.isascii():
        return token.translate(LEET)
    # translate looks each character up in a dict, slow on long non-Latin
    # tokens; one C-speed replace per leet symbol is not.
    return _replace_each(token, _LEET_PAIRS)


# Runs of one character longer than the limit. One back-reference, nothing
# nested: no backtracking. Limit 1 deletes each letter that its double
# follows (no replacement template per match, so cheaper on everyday words);
# limit 2 rewrites whole runs (cheaper on "aaaa...").
_SQUEEZE = {
    1: (re.compile(r"(.)(?=\1)", re.DOTALL), ""),
    2: (re.compile(r"(.)\1\1+", re.DOTALL), r"\1\1"),
}


def _collapse_runs(token: str, limit: int) -> str:
    """Shorten every run of one letter to at most `limit` (1 or 2) letters."""
    pattern, replacement = _SQUEEZE[limit]
    return pattern.sub(replacement, token)


def _join_spelled_out(
    raw: list[str], vocabulary: Collection[str], extra: Collection[str]
) -> list[str]:
    """ "s u i c i d e", "k.m.s": a run of single characters becomes one word
    when it is long (5+) or spells a word the caller knows. Short runs stay
    apart, so texting like "u r a" keeps its words."""
    single = [len(t) == 1 and t != SENTENCE and t != PAUSE for t in raw]
    if True not in single:
        return raw
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        if not single[i]:
            out.append(raw[i])
            i += 1
            continue
        j = i
        letters: list[str] = []
        while j < n:
            if single[j]:
                letters.append(raw[j])
                j += 1
            elif raw[j] == SENTENCE and j + 1 < n and single[j + 1]:
                j += 1
            else:
                break
        joined = "".join(letters)
        # Only a run of 3 or 4 has to spell a word (and most runs are 1).
        spelled = _deleet(joined) if 3 <= len(letters) < 5 else None
        if len(letters) >= 5 or spelled in vocabulary or spelled in extra:
            out.append(joined)
        else:
            out.extend(raw[i:j])
        i = j
    return out


def tokens(
    text: str,
    *,
    vocabulary: Collection[str] = (),
    typo: Mapping[str, str] | None = None,
    fuzzy: Callable[[str], str | None] | None = None,
) -> list[str]:
    """Normalised tokens of `text`.

    `vocabulary` is the set of words the caller cares about: a token that is
    not in it but becomes one of its words once repeated letters are
    squeezed ("killlll", "suiiicide") or once a "1" is read as "l" rather
    than "i" ("he11o") is replaced by that word. `typo` maps known
    misspellings to their word; `fuzzy` may propose a word for what is
    left (an edit-distance check, say).
    """
    vocab = vocabulary if isinstance(vocabulary, (set, frozenset)) else set(vocabulary)
    typos = typo or {}
    cleaned = clean_chars(text).replace("_", " ")
    if _WORDS_AND_SPACES.fullmatch(cleaned):
        found = cleaned.split()
    else:
        found = _TOKEN.findall(cleaned)
    raw = [SENTENCE if t in ".!?;:\n" else t for t in found]
    raw = _join_spelled_out(raw, vocab, _EXPANSIONS)
    # Each distinct token is worked out once (long messages repeat words),
    # which needs `fuzzy` to be a pure function.
    distinct = set(raw)
    words = {t: _word(t, vocab, typos, fuzzy) for t in distinct}
    words[SENTENCE], words[PAUSE] = (SENTENCE,), (PAUSE,)
    items = list(chain.from_iterable(map(words.__getitem__, raw)))
    if SENTENCE in distinct or PAUSE in distinct:
        # A run of the same boundary counts once. (Comparing with the item
        # before, kept or not, is the same: a dropped one equals the last kept.)
        items = [
            t
            for t, before in zip(items, [None, *items], strict=False)
            if not (t == before and t in (SENTENCE, PAUSE))
        ]
    return _join_pairs(items)


def _word(
    token: str,
    vocab: Collection[str],
    typos: Mapping[str, str],
    fuzzy: Callable[[str], str | None] | None,
) -> tuple[str, ...]:
    """The normalised word(s) one raw token stands for; none for "'"."""
    token = token.strip("'")
    if not token:
        return ()
    if token in _EXPANSIONS:
        return _EXPANSIONS[token]
    if token.endswith("'s"):
        token = token[:-2]
    token = token.replace("'", "")
    leet = _deleet(token)
    if leet != token and leet not in vocab and "1" in token:
        as_l = _deleet(token.replace("1", "l"))
        leet = as_l if as_l in vocab else leet
    token = leet
    if token in _EXPANSIONS:
        return _EXPANSIONS[token]
    if token not in vocab:
        token = typos.get(token, token)
    if token not in vocab and len(token) > 2:
        squeezed = token
        for limit in (2, 1):
            # Squeezing to 2 first leaves the same runs, only shorter.
            squeezed = _collapse_runs(squeezed, limit)
            if squeezed in vocab:
                token = squeezed
                break
            if squeezed in typos:
                token = typos[squeezed]
                break
        else:
            if fuzzy is not None and token not in vocab:
                token = fuzzy(token) or token
    return _EXPANSIONS.get(token) or (token,)


# Every start of a joinable word: most tokens are not one, and checking that
# first saves building a joined string at every position.
_JOIN_HEADS = frozenset(word[:i] for word in _JOINABLE for i in range(len(word) + 1))


def _join_pairs(items: list[str]) -> list[str]:
    if _JOIN_HEADS.isdisjoint(items):
        return items
    out: list[str] = []
    i, n = 0, len(items)
    while i < n:
        item = items[i]
        if item in _JOIN_HEADS and i + 1 < n and item + items[i + 1] in _JOINABLE:
            joined = item + items[i + 1]
            out.extend(_EXPANSIONS.get(joined, (joined,)))
            i += 2
            continue
        out.append(item)
        i += 1
    return out


def warm_up() -> None:
    """Build the tables now rather than on the first accented message."""
    _marks()


def plain(text: str) -> str:
    """The normalised text as one space-separated string of word tokens,
    for word filters: "Hé11o, W0RLD" -> "hello world"."""
    return " ".join(t for t in tokens(text) if t not in (SENTENCE, PAUSE))
