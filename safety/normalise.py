"""Text normalisation shared by the crisis screener and the word filters.

Everything here runs in linear time: character maps, one tokenising regex
without nested quantifiers, and single passes over the token list. The
output is a list of lowercase ASCII-ish tokens with punctuation kept as
boundary tokens ("." for a sentence end, "," for a pause).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Mapping

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

# Look-alike letters from other scripts that NFKC leaves alone.
_CONFUSABLES = str.maketrans(
    {
        "\u0430": "a",
        "\u0432": "b",
        "\u0435": "e",
        "\u0451": "e",
        "\u043a": "k",
        "\u043c": "m",
        "\u043d": "h",
        "\u043e": "o",
        "\u0440": "p",
        "\u0441": "c",
        "\u0442": "t",
        "\u0443": "y",
        "\u0445": "x",
        "\u0456": "i",
        "\u0458": "j",
        "\u0455": "s",
        "\u0501": "d",
        "\u0251": "a",
        "\u03bf": "o",
        "\u03b9": "i",
        "\u03ba": "k",
        "\u03bd": "v",
        "\u03c4": "t",
        "\u03c5": "u",
        "\u03b5": "e",
        "\u03b1": "a",
        "\u03c1": "p",
        "\u2018": "'",
        "\u2019": "'",
        "\u02bc": "'",
        "`": "'",
        "\u00b4": "'",
        "\u2028": "\n",
        "\u2029": "\n",
    }
)

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
# so that "$uicide" and "@" survive as part of a word.
_TOKEN = re.compile(r"(?:[^\W_]|[@$'])+|[.!?;:\n]|,")
# "k!ll", "k|ll": symbols standing for letters inside a word.
_INNER_SYMBOL = re.compile(r"(?<=[a-z])[!|](?=[a-z])")
_TIME_LIKE = re.compile(r"\d+(?:am|pm|st|nd|rd|th|s|h|m|min|mins|hrs?|k|x)")
_HAS_LETTER = re.compile(r"[a-z]")
_HAS_LEET = re.compile(r"[0-9@$]")

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
}


def clean_chars(text: str) -> str:
    """NFKC, casefold, invisible characters out, look-alikes and accents
    folded. Returns text; no tokenising."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_INVISIBLE)
    for emoji, word in _EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji, word)
    text = text.casefold().translate(_CONFUSABLES)
    # Strip accents ("suïcide"), keep the base letters.
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _INNER_SYMBOL.sub(lambda m: "i" if m.group() == "!" else "l", text)


def _deleet(token: str) -> str:
    if not _HAS_LEET.search(token) or not _HAS_LETTER.search(token):
        return token
    if _TIME_LIKE.fullmatch(token):
        return token
    return token.translate(LEET)


def _collapse_runs(token: str, limit: int) -> str:
    """Shorten every run of one letter to at most `limit` letters."""
    out: list[str] = []
    previous = ""
    run = 0
    for ch in token:
        run = run + 1 if ch == previous else 1
        previous = ch
        if run <= limit:
            out.append(ch)
    return "".join(out)


def _single(token: str) -> bool:
    return len(token) == 1 and token not in (SENTENCE, PAUSE)


def _join_spelled_out(
    raw: list[str], vocabulary: Collection[str], extra: Collection[str]
) -> list[str]:
    """ "s u i c i d e", "k.m.s": a run of single characters becomes one word
    when it is long (5+) or spells a word the caller knows. Short runs stay
    apart, so texting like "u r a" keeps its words."""
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        if not _single(raw[i]):
            out.append(raw[i])
            i += 1
            continue
        j = i
        letters: list[str] = []
        while j < n:
            if _single(raw[j]):
                letters.append(raw[j])
                j += 1
            elif raw[j] == SENTENCE and j + 1 < n and _single(raw[j + 1]):
                j += 1
            else:
                break
        joined = "".join(letters)
        spelled = _deleet(joined)
        if len(letters) >= 3 and (
            len(letters) >= 5 or spelled in vocabulary or spelled in extra
        ):
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
    raw = [SENTENCE if t in ".!?;:\n" else t for t in _TOKEN.findall(clean_chars(text))]
    raw = _join_spelled_out(raw, vocab, _EXPANSIONS)
    out: list[str] = []
    for token in raw:
        if token in (SENTENCE, PAUSE):
            if not out or out[-1] != token:
                out.append(token)
            continue
        token = token.strip("'")
        if not token:
            continue
        if token in _EXPANSIONS:
            out.extend(_EXPANSIONS[token])
            continue
        if token.endswith("'s"):
            token = token[:-2]
        token = token.replace("'", "")
        leet = _deleet(token)
        if leet != token and leet not in vocab and "1" in token:
            as_l = _deleet(token.replace("1", "l"))
            leet = as_l if as_l in vocab else leet
        token = leet
        if token in _EXPANSIONS:
            out.extend(_EXPANSIONS[token])
            continue
        if token not in vocab:
            token = typos.get(token, token)
        if token not in vocab and len(token) > 2:
            for limit in (2, 1):
                squeezed = _collapse_runs(token, limit)
                if squeezed in vocab:
                    token = squeezed
                    break
                if squeezed in typos:
                    token = typos[squeezed]
                    break
            else:
                if fuzzy is not None and token not in vocab:
                    token = fuzzy(token) or token
        expanded = _EXPANSIONS.get(token)
        if expanded:
            out.extend(expanded)
        else:
            out.append(token)
    return _join_pairs(out)


def _join_pairs(items: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(items):
        if i + 1 < len(items) and items[i] + items[i + 1] in _JOINABLE:
            out.append(items[i] + items[i + 1])
            i += 2
            continue
        out.append(items[i])
        i += 1
    return out


def plain(text: str) -> str:
    """The normalised text as one space-separated string of word tokens,
    for word filters: "Hé11o, W0RLD" -> "hello world"."""
    return " ".join(t for t in tokens(text) if t not in (SENTENCE, PAUSE))
