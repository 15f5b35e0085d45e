"""Crisis screening: text in, a tier and the ids of the rules that matched out.

    >>> from safety.screening import screen
    >>> screen("I'm exhausted from doing everything myself").tier
    'none'

The interface is `screen(text) -> Result`; everything else here is detail
that a replacement (a trained model, a vendor service behind the same
function) may do differently. The rule engine is deterministic, makes no
network calls and runs in time linear in the length of the text: tokens are
matched against a trie of phrases (regular expressions only normalise the
text, and none has nested quantifiers or backtracks).

How a tier is decided (see docs/safety.md):

1. Normalise (NFKC, casefold, invisible characters, leetspeak, spelled-out
   words, repeated letters, contractions, misspellings, slang such as
   "kms" and "unalive") and drop filler words.
2. Find every phrase of `screening_rules.RULES` in each segment (sentences,
   also split at "but", "however", ...).
3. Drop matches that are negated ("I'm not suicidal"), followed by an idiom
   tail ("die of embarrassment"), or about someone else ("she wants to ...",
   which is third party instead).
4. Matches about the distant past ("years ago", "when I was a teen") count
   only if the message says it is back ("again", "it's back", "lately").
5. Combine features: intent with a time, place, plan or the means is
   imminent; asking for or giving methods is method; someone else at risk
   is third party; hopelessness, burden, wanting to die or disappear is
   concern.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache
from typing import Literal, NamedTuple

from . import model as _model
from . import normalise
from . import screening_rules as R

Tier = Literal["none", "concern", "method", "imminent", "third_party"]
TIERS: tuple[Tier, ...] = ("none", "concern", "third_party", "method", "imminent")

# Longer text is screened up to this many characters (a chat message is at
# most 2,000; reflections are longer but rarely this long).
MAX_CHARS = 20_000
_NEGATION_WINDOW = 4
_TIME_DISTANCE = 5


@dataclass(frozen=True)
class Result:
    """What the screener found. `reasons` holds rule ids, never text."""

    tier: Tier
    reasons: tuple[str, ...] = ()
    # True when the tier is "none" but the screener is unsure: the room then
    # offers only the sender a gentle check-in (docs/safety.md). Never set
    # together with a risk tier.
    uncertain: bool = False

    @property
    def flagged(self) -> bool:
        return self.tier != "none"


NONE = Result("none")
# The rules found risk words but set them aside: negated ("I'm not
# suicidal"), an idiom ("die of embarrassment") or the past ("years ago").
SET_ASIDE = Result("none", ("context.set_aside",))


# --- Building the phrase trie (once per process) ---------------------------


def _split_template(template: str) -> list[str]:
    pieces: list[str] = []
    word = ""
    for ch in template:
        if ch in "()|?{} ":
            if word:
                pieces.append(word)
                word = ""
            if ch != " ":
                pieces.append(ch)
        else:
            word += ch
    if word:
        pieces.append(word)
    return pieces


def expand(template: str) -> list[tuple[str, ...]]:
    """Every token sequence a template stands for."""
    pieces = _split_template(template)
    position = 0

    def sequence() -> list[tuple[str, ...]]:
        nonlocal position
        results: list[tuple[str, ...]] = [()]
        while position < len(pieces) and pieces[position] not in ")|":
            piece = pieces[position]
            if piece == "(":
                position += 1
                options = alternatives()
                if pieces[position] != ")":
                    raise ValueError(f"unbalanced template: {template}")
                position += 1
                if position < len(pieces) and pieces[position] == "?":
                    options = [*options, ()]
                    position += 1
            elif piece == "{":
                name = pieces[position + 1]
                position += 3
                if name in R.CLASSES:
                    options = [(f"@{name}",)]
                else:
                    options = [seq for entry in R.SETS[name] for seq in expand(entry)]
            else:
                position += 1
                options = [(piece,)]
            results = [head + tail for head in results for tail in options]
        return results

    def alternatives() -> list[tuple[str, ...]]:
        nonlocal position
        options = sequence()
        while position < len(pieces) and pieces[position] == "|":
            position += 1
            options += sequence()
        return options

    found = alternatives()
    if position != len(pieces):
        raise ValueError(f"unbalanced template: {template}")
    return [seq for seq in found if seq]


_END = ""  # trie key holding the rules that end at a node


@cache
def _trie() -> dict[str, object]:
    root: dict[str, object] = {}
    for rule in R.RULES:
        for template in rule.templates:
            for seq in expand(template):
                node = root
                for token in seq:
                    node = node.setdefault(token, {})  # type: ignore[assignment]
                ends = node.setdefault(_END, [])
                if rule not in ends:  # type: ignore[operator]
                    ends.append(rule)  # type: ignore[attr-defined]
    return root


@cache
def _classes() -> dict[str, tuple[str, ...]]:
    """word -> the class edges ("@MEANS") it may follow."""
    found: dict[str, list[str]] = {}
    for name in R.CLASSES:
        for word in R.SETS[name]:
            if " " in word:
                raise ValueError(f"{name} holds single words only: {word!r}")
            found.setdefault(word, []).append(f"@{name}")
    return {word: tuple(edges) for word, edges in found.items()}


@cache
def _starters() -> frozenset[str]:
    """Tokens that can begin a phrase (and digits, if a phrase begins {NUM})."""
    root = _trie()
    classes = _classes()
    return frozenset(root).union(
        word for word, edges in classes.items() if any(e in root for e in edges)
    )


@cache
def vocabulary() -> frozenset[str]:
    words: set[str] = set(R.FILLERS) | set(R.NEGATIONS) | set(R.CONJUNCTIONS)
    words |= set(_classes())
    stack: list[dict[str, object]] = [_trie()]
    while stack:
        node = stack.pop()
        for key, child in node.items():
            if key != _END:
                words.add(key)
                stack.append(child)  # type: ignore[arg-type]
    return frozenset(words)


def _within_one_edit(word: str, target: str) -> bool:
    """Optimal-string-alignment distance <= 1, in linear time."""
    if abs(len(word) - len(target)) > 1:
        return False
    i = 0
    shorter = min(len(word), len(target))
    while i < shorter and word[i] == target[i]:
        i += 1
    if len(word) == len(target):
        if word[i + 1 :] == target[i + 1 :]:
            return True  # one substitution (or equal)
        return (
            i + 1 < len(word)
            and word[i] == target[i + 1]
            and word[i + 1] == target[i]
            and word[i + 2 :] == target[i + 2 :]
        )
    if len(word) > len(target):
        return word[i + 1 :] == target[i:]
    return word[i:] == target[i + 1 :]


_FUZZY_LONGEST = max(len(target) for target in R.FUZZY_TARGETS)


def _fuzzy(token: str) -> str | None:
    # Longer tokens are more than one edit from every target.
    if not 5 <= len(token) <= _FUZZY_LONGEST + 1 or not token.isalpha():
        return None
    for target in R.FUZZY_TARGETS:
        if token[0] == target[0] and _within_one_edit(token, target):
            return target
    return None


# --- Matching ----------------------------------------------------------------


class _Match(NamedTuple):  # a tuple: long texts make hundreds of them
    rule: R.Rule
    segment: int
    start: int
    end: int  # exclusive


# Tokens that end a segment or are dropped from it.
_SPLIT_OR_DROP = frozenset({normalise.SENTENCE, *R.CONTRASTS, *R.FILLERS})


def _segments(items: list[str]) -> list[list[str]]:
    if _SPLIT_OR_DROP.isdisjoint(items):  # a single clause: a C-speed check
        return [items] if items else []
    segments: list[list[str]] = [[]]
    for token in items:
        if token == normalise.SENTENCE or token in R.CONTRASTS:
            if segments[-1]:
                segments.append([])
            continue
        if token in R.FILLERS:
            continue
        segments[-1].append(token)
    return [s for s in segments if s]


def _find(segment: list[str], index: int) -> list[_Match]:
    """Every phrase starting at every position. Phrases are at most a dozen
    tokens long, so the work per position is bounded: linear overall."""
    root = _trie()
    if _starters().isdisjoint(segment) and not (
        "@NUM" in root and any(token.isdigit() for token in segment)
    ):
        return []  # "., ., ., ...": no phrase can start here
    classes = _classes()
    # Per distinct token, once: the trie keys it can follow (itself and its
    # classes) and the nodes a phrase starting with it reaches.
    keys_of: dict[str, tuple[str, ...]] = {}
    firsts_of: dict[str, list[dict[str, object]]] = {}
    for token in set(segment):
        extra = ("@NUM",) if token.isdigit() else classes.get(token, ())
        keys = keys_of[token] = (token, *extra)
        firsts_of[token] = [root[k] for k in keys if k in root]  # type: ignore[misc]
    edges = [keys_of[token] for token in segment]
    last = len(segment) - 1
    found: list[_Match] = []
    for start, token in enumerate(segment):
        firsts = firsts_of[token]
        if not firsts:  # most tokens start no phrase
            continue
        frontier: list[tuple[dict[str, object], int]] = []
        for first in firsts:
            for rule in first.get(_END, ()):  # type: ignore[attr-defined]
                found.append(_Match(rule, index, start, start + 1))
            # Go on only if the next token does ("end end end ..." does not).
            if start < last and not first.keys().isdisjoint(edges[start + 1]):
                frontier.append((first, start + 1))
        while frontier:
            node, position = frontier.pop()
            for key in edges[position]:
                child = node.get(key)
                if child is None:
                    continue
                for rule in child.get(_END, ()):  # type: ignore[attr-defined]
                    found.append(_Match(rule, index, start, position + 1))
                if position < last:
                    frontier.append((child, position + 1))  # type: ignore[arg-type]
    return found


def _negated(segment: list[str], start: int) -> bool:
    seen = 0
    position = start - 1
    while position >= 0 and seen < _NEGATION_WINDOW:
        token = segment[position]
        if token == normalise.PAUSE or token in R.CONJUNCTIONS:
            return False
        if token in R.NEGATIONS:
            after = segment[position + 1] if position + 1 < start else ""
            if after not in R.HEDGES:
                return True
        seen += 1
        position -= 1
    return False


def _kept(match: _Match, segment: list[str]) -> bool:
    rule = match.rule
    after = segment[match.end] if match.end < len(segment) else ""
    before = segment[match.start - 1] if match.start > 0 else ""
    if after in rule.tail_block or before in rule.pre_block:
        return False
    return not (rule.negatable and _negated(segment, match.start))


_MARKERS = frozenset({R.PAST, R.PRESENT})
_TIME_FEATURES = frozenset({R.PAST, R.PRESENT, R.RECUR})


class _Timeline:
    """The time markers of one segment, for O(log n) look-ups."""

    def __init__(self, markers: list[_Match], segment: list[str]) -> None:
        self.by_end = sorted(markers, key=lambda m: m.end)
        self.ends = [m.end for m in self.by_end]
        self.by_start = sorted(markers, key=lambda m: m.start)
        self.starts = [m.start for m in self.by_start]
        # breaks[i]: clause breaks among the first i tokens.
        self.breaks = [0]
        for token in segment:
            stop = token == normalise.PAUSE or token in R.CONJUNCTIONS
            self.breaks.append(self.breaks[-1] + stop)

    def in_past(self, match: _Match) -> bool:
        """The nearest time marker before the match decides; failing one, a
        past marker later in the same clause ("I felt that way years ago")."""
        before = bisect_right(self.ends, match.start)
        if before:
            return R.PAST in self.by_end[before - 1].rule.features
        after = bisect_left(self.starts, match.end)
        if after == len(self.starts):
            return False
        marker = self.by_start[after]
        if self.breaks[marker.start] - self.breaks[match.end]:
            return False
        return R.PAST in marker.rule.features


def _near(a: list[_Match], b: list[_Match]) -> bool:
    """Is any match of `a` within a few tokens of one of `b`?"""
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for y in b:
        starts.setdefault(y.segment, []).append(y.start)
        ends.setdefault(y.segment, []).append(y.end)
    for values in (*starts.values(), *ends.values()):
        values.sort()
    for x in a:
        s = starts.get(x.segment, [])
        i = bisect_left(s, x.end)
        if i < len(s) and s[i] - x.end <= _TIME_DISTANCE:
            return True
        e = ends.get(x.segment, [])
        j = bisect_right(e, x.start)
        if j and x.start - e[j - 1] <= _TIME_DISTANCE:
            return True
    return False


def normalised(text: str) -> list[str]:
    """The screener's tokens for `text` (rules and model both read these)."""
    return normalise.tokens(
        text[:MAX_CHARS], vocabulary=vocabulary(), typo=R.TYPOS, fuzzy=_fuzzy
    )


def screen(text: str) -> Result:
    """Screen one message or reflection. Pure, deterministic, linear-time.

    The phrase rules and the learned model each give a view, and `decide`
    combines them (docs/safety.md, "How the two layers combine")."""
    if not text or not text.strip():
        return NONE
    items = normalised(text)
    by_rules, hints = scan(items)
    model = _model.load()
    if model.layers != "both":
        by_rules = NONE
    probabilities = model.probabilities(_model.features(items, hints))
    return decide(by_rules, probabilities, model, whole=_model.chat_sized(items))


def rules(items: list[str]) -> Result:
    """The phrase rules alone, on normalised tokens."""
    return scan(items)[0]


def scan(items: list[str]) -> tuple[Result, set[str]]:
    """The rules' verdict, and what they saw as hints for the model: the id
    of every phrase found, marked live ("r"), in the past ("p") or set aside
    as negated or an idiom ("s")."""
    live: list[_Match] = []
    past: list[_Match] = []
    hints: set[str] = set()
    recurring = False
    for index, segment in enumerate(_segments(items)):
        found = _find(segment, index)
        matches = [m for m in found if _kept(m, segment)]
        if len(matches) < len(found):
            hints.update("s " + m.rule.id for m in found if m not in matches)
        if not matches:
            continue
        markers = [m for m in matches if not _MARKERS.isdisjoint(m.rule.features)]
        timeline = _Timeline(markers, segment) if markers else None
        for match in matches:
            features = match.rule.features
            if R.RECUR in features:
                recurring = True
            if not _TIME_FEATURES.isdisjoint(features):
                hints.add("r " + match.rule.id)
                continue
            if timeline is not None and timeline.in_past(match):
                past.append(match)
                hints.add("p " + match.rule.id)
            else:
                live.append(match)
                hints.add("r " + match.rule.id)
    result = _decide(live, past, recurring)
    if result.tier == "none" and hints and any(hint[0] != "r" for hint in hints):
        result = SET_ASIDE
    hints.add("t " + result.tier)
    return result, hints


_URGENCY = {tier: rank for rank, tier in enumerate(TIERS)}


def decide(
    by_rules: Result,
    probabilities: dict[str, float],
    model: _model.Model,
    *,
    whole: bool = True,
) -> Result:
    """Combine the rules' tier with the model's probabilities.

    - The model flags a message when its probability of any risk tier
      reaches `flag`; then method or imminent if those two together reach
      `held`, else the likelier of third party and concern.
    - The more urgent of the two views wins, so the model adds recall, except:
    - a concern that only the rules found, and that the model is sure is
      ordinary talk (`none` at least `veto`), becomes a gentle check-in: the
      sender is still asked, privately, and can ask for support. Never a
      more urgent tier, and only on a chat-sized message (`whole`:
      `model.chat_sized`), where one risky sentence is not diluted.
    - Where the rules set risk words aside (negated, an idiom, the past),
      the model needs the higher `flag_set_aside` to flag.
    - A message that neither flags but whose risk probability reaches `soft`
      gets the gentle check-in (`uncertain`): only its sender is asked.
    """
    th = model.thresholds
    p_none = probabilities.get("none", 1.0)
    risk = 1.0 - p_none
    held = probabilities.get("method", 0.0) + probabilities.get("imminent", 0.0)
    learned: Tier = "none"
    flag = th["flag_set_aside"] if by_rules is SET_ASIDE else th["flag"]
    if risk >= flag:
        if held >= th["held"]:
            learned = (
                "imminent"
                if probabilities.get("imminent", 0.0)
                >= probabilities.get("method", 0.0)
                else "method"
            )
        elif probabilities.get("third_party", 0.0) > probabilities.get("concern", 0.0):
            learned = "third_party"
        else:
            learned = "concern"
    tier = by_rules.tier
    if tier == "concern" and learned == "none" and p_none >= th["veto"] and whole:
        return Result("none", ("model.veto", *by_rules.reasons), uncertain=True)
    if _URGENCY[learned] > _URGENCY[tier]:
        return Result(learned, (f"model.{learned}", *by_rules.reasons))
    if tier != "none":
        return by_rules
    return Result("none", uncertain=True) if risk >= th["soft"] else NONE


def _decide(live: list[_Match], past: list[_Match], recurring: bool) -> Result:
    by_feature: dict[str, list[_Match]] = {}
    for match in live:
        for feature in match.rule.features:
            by_feature.setdefault(feature, []).append(match)
    has = by_feature.__contains__
    ids = sorted({m.rule.id for m in live})

    def per_segment(feature: str) -> set[int]:
        return {m.segment for m in by_feature.get(feature, ())}

    intent, vague = per_segment(R.INTENT), per_segment(R.INTENT_VAGUE)
    timed = per_segment(R.TIME) | per_segment(R.TIME_SOON) | per_segment(R.PLACE)
    self_risk = any(has(f) for f in R.SELF_RISK)
    means = has(R.MEANS) or has(R.STOCKPILE)
    wanting = has(R.IDEATION) or has(R.INTENT)

    why = ""
    if intent & (timed | per_segment(R.MEANS_WORD)):
        why = "imminent.intent_with_time_or_place"
    elif has(R.INTENT) and (means or has(R.PLAN)):
        why = "imminent.intent_with_means"
    elif (vague & timed or (vague and (has(R.PLAN) or has(R.MEANS)))) and (
        wanting or means or has(R.FAREWELL) or has(R.FAREWELL_SOFT)
    ):
        why = "imminent.decision_with_time_or_means"
    elif per_segment(R.JUMP) & per_segment(R.PLACE):
        why = "imminent.intent_with_place"
    elif has(R.IDEATION) and (
        _near(by_feature[R.IDEATION], by_feature.get(R.TIME, []))
        or per_segment(R.IDEATION) & per_segment(R.PLACE)
    ):
        why = "imminent.ideation_with_time_or_place"
    elif (self_risk or has(R.INTENT)) and means:
        why = "imminent.distress_with_means"
    elif wanting and has(R.PLAN):
        why = "imminent.ideation_with_plan"
    elif (has(R.FAREWELL) or has(R.FAREWELL_SOFT)) and (
        wanting or means or has(R.PLAN)
    ):
        why = "imminent.farewell"
    if why:
        return Result("imminent", (why, *ids))

    if has(R.SEEK) or has(R.URGE) or has(R.STOCKPILE):
        return Result("method", ids_with("method", ids))
    if per_segment(R.MEANS_WORD) & (
        per_segment(R.IDEATION) | per_segment(R.SELF_HARM) | intent
    ):
        return Result("method", ("method.means_with_ideation", *ids))

    if has(R.THIRD):
        urgent = per_segment(R.THIRD) & (
            timed | per_segment(R.PLAN) | per_segment(R.MEANS)
        )
        extra = ("third_party.urgent",) if urgent else ()
        return Result("third_party", (*extra, *ids))

    if self_risk or has(R.INTENT) or has(R.FAREWELL):
        return Result("concern", ids_with("concern", ids))
    if recurring and (past or has(R.FEELING_REF)):
        earlier = sorted({m.rule.id for m in past} | set(ids))
        return Result("concern", ("concern.past_returning", *earlier))
    return NONE


def ids_with(prefix: str, ids: list[str]) -> tuple[str, ...]:
    """Rule ids, those of the deciding tier first."""
    first = [i for i in ids if i.startswith(prefix)]
    return (*first, *(i for i in ids if not i.startswith(prefix)))


def warm_up() -> None:
    """Build the tables now (the app calls this at start-up) rather than on
    the first message."""
    _trie()
    _starters()
    vocabulary()
    normalise.warm_up()
    _model.load()
