"""The screening corpus and how the screener is scored on it.

The corpus (`safety/corpus/`) holds chat lines written for the project, one
a line as `tier<TAB>kind<TAB>text`. `train/` is what rules were written
against and the model was fitted on; `test/` was written separately and is
only ever scored (docs/safety.md says how). `make bench`, the docs and the
tests all score through `evaluate` so the figures mean the same everywhere.

What counts (docs/safety.md):
- A risk line is *caught* when it is screened at its own tier or a more
  urgent one (none < concern < third_party < method < imminent): every
  risk tier gives the sender a card and raises an alert, and the urgent
  tiers hold the message.
- Imminent and method are scored together ("held"), as the issue asks: a
  line of either must come out imminent or method.
- A *false alarm* is a hard negative (kind `hard:*`) screened at any risk
  tier. Gentle check-ins (`uncertain`) are counted apart: they alert nobody.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .screening import TIERS, Result

CORPUS = Path(__file__).resolve().parent / "corpus"
TRAIN = CORPUS / "train"
TEST = CORPUS / "test"
RISK = ("concern", "third_party", "method", "imminent")
_RANK: dict[str, int] = {tier: rank for rank, tier in enumerate(TIERS)}


class Line(NamedTuple):
    tier: str
    kind: str
    text: str
    source: str  # "file:line", for reports


def load(folder: Path) -> list[Line]:
    """Every line of every .tsv file in `folder`, checked."""
    lines: list[Line] = []
    for path in sorted(folder.glob("*.tsv")):
        for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not raw.strip() or raw.startswith("#"):
                continue
            parts = raw.split("\t")
            where = f"{path.name}:{number}"
            if len(parts) != 3 or parts[0] not in TIERS or not parts[2].strip():
                raise ValueError(f"{where}: not tier<TAB>kind<TAB>text")
            lines.append(Line(parts[0], parts[1], parts[2], where))
    return lines


def key(text: str) -> str:
    """Two lines with the same key are the same line, for de-duplication."""
    return " ".join(text.casefold().split())


def caught(label: str, tier: str) -> bool:
    if label in ("method", "imminent"):
        return tier in ("method", "imminent")
    return _RANK[tier] >= _RANK[label]


@dataclass
class Report:
    total: int = 0
    by_label: Counter[str] = field(default_factory=Counter)
    caught: Counter[str] = field(default_factory=Counter)
    soft: Counter[str] = field(default_factory=Counter)  # uncertain, risk lines
    screened: Counter[str] = field(default_factory=Counter)  # by output tier
    exact: Counter[str] = field(default_factory=Counter)  # output == label
    hard: int = 0
    false_alarms: int = 0
    hard_soft: int = 0
    everyday: int = 0
    everyday_alarms: int = 0
    everyday_soft: int = 0
    missed: list[Line] = field(default_factory=list)
    alarms: list[Line] = field(default_factory=list)

    def recall(self, *labels: str) -> float:
        n = sum(self.by_label[t] for t in labels)
        return sum(self.caught[t] for t in labels) / n if n else 0.0

    def precision(self, tier: str) -> float:
        """Of the lines screened at `tier`, the share labelled `tier` (for
        "held": labelled method or imminent)."""
        group = ("method", "imminent") if tier == "held" else (tier,)
        n = sum(self.screened[t] for t in group)
        return sum(self.exact[t] for t in group) / n if n else 0.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.hard if self.hard else 0.0

    def figures(self) -> dict[str, float]:
        return {
            "lines": self.total,
            "recall_held": self.recall("method", "imminent"),
            "recall_imminent": self.recall("imminent"),
            "recall_method": self.recall("method"),
            "recall_concern": self.recall("concern"),
            "recall_third_party": self.recall("third_party"),
            "recall_any_risk": self.recall(*RISK),
            "precision_held": self.precision("held"),
            "precision_concern": self.precision("concern"),
            "precision_third_party": self.precision("third_party"),
            "false_alarm_rate": self.false_alarm_rate,
            "hard_negatives": self.hard,
            "soft_on_risk": sum(self.soft.values()),
            "soft_on_hard_negatives": self.hard_soft,
            "everyday_alarms": self.everyday_alarms,
        }


def evaluate(lines: Iterable[Line], screen: Callable[[str], Result]) -> Report:
    report = Report()
    for line in lines:
        result = screen(line.text)
        tier = result.tier
        report.total += 1
        report.screened[tier] += 1
        if line.tier == tier or (
            tier in ("method", "imminent") and line.tier in ("method", "imminent")
        ):
            report.exact[tier] += 1
        if line.tier in RISK:
            report.by_label[line.tier] += 1
            if caught(line.tier, tier):
                report.caught[line.tier] += 1
            else:
                report.missed.append(line)
                if result.uncertain:
                    report.soft[line.tier] += 1
        elif line.kind.startswith("hard:"):
            report.hard += 1
            if tier != "none":
                report.false_alarms += 1
                report.alarms.append(line)
            report.hard_soft += result.uncertain
        else:
            report.everyday += 1
            if tier != "none":
                report.everyday_alarms += 1
                report.alarms.append(line)
            report.everyday_soft += result.uncertain
    return report


def table(reports: dict[str, Report]) -> str:
    """A Markdown table, one column per screener."""
    names = list(reports)
    rows = [
        (
            "imminent + method recall (held)",
            lambda r: _pct(r.recall("method", "imminent")),
        ),
        ("  imminent recall", lambda r: _pct(r.recall("imminent"))),
        ("  method recall", lambda r: _pct(r.recall("method"))),
        ("concern recall", lambda r: _pct(r.recall("concern"))),
        ("third-party recall", lambda r: _pct(r.recall("third_party"))),
        ("held precision", lambda r: _pct(r.precision("held"))),
        ("concern precision", lambda r: _pct(r.precision("concern"))),
        ("third-party precision", lambda r: _pct(r.precision("third_party"))),
        (
            "false alarms on hard negatives",
            lambda r: f"{r.false_alarms}/{r.hard} ({_pct(r.false_alarm_rate)})",
        ),
        ("alarms on everyday lines", lambda r: f"{r.everyday_alarms}/{r.everyday}"),
        ("gentle check-ins: missed risk lines", lambda r: str(sum(r.soft.values()))),
        ("gentle check-ins: hard negatives", lambda r: f"{r.hard_soft}/{r.hard}"),
    ]
    out = ["| | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, cell in rows:
        out.append(f"| {label} | " + " | ".join(cell(reports[n]) for n in names) + " |")
    return "\n".join(out)


def _pct(value: float) -> str:
    return f"{value:.2f}"
