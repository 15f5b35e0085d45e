"""Scenario 11: the crisis screener's speed on a mixed corpus, including
2,000-character adversarial strings. Runs only when
`safety.screening.screen` exists; `--probe` says whether it does.

    python -m bench.screening_bench [--probe] [--rounds N]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

EVERYDAY = [
    "Thanks everyone, that really helped tonight.",
    "I passed last week but I'd like to share today.",
    "Work has been a lot. I keep saying yes to everything.",
    "Does anyone else find it hard to ask for help at home?",
    "I'm okay, just tired. Sending a heart to whoever spoke first.",
    "Ich bin heute etwas müde, aber froh hier zu sein.",
    "Me cuesta pedir ayuda, siempre lo hago todo sola.",
    "J'ai enfin demandé de l'aide à ma sœur 💛",
]
CONCERNING = [
    "Some days I don't see the point of going on.",
    "I've been thinking about ending it all.",
    "I don't want to be here anymore.",
    "i want to kill myself",
    "I feel like hurting myself again tonight.",
    "nobody would notice if I disappeared",
]


def adversarial(rng: random.Random) -> list[str]:
    """2,000-character strings built to hurt naive matchers: long runs,
    near-misses repeated, zero-width and combining characters, mixed
    scripts, and patterns that make backtracking regexes explode."""
    near = "kil lmy self " * 160
    return [
        ("a" * 1999 + "!")[:2000],
        (near)[:2000],
        ("end " * 500)[:2000],
        ("\u200b".join("kill myself" for _ in range(200)))[:2000],
        ("e\u0301\u0302\u0303" * 500)[:2000],
        ("ki" + "l" * 1990 + " myself")[:2000],
        ("I " + "really " * 280 + "want to die")[:2000],
        ("(" * 1000 + ")" * 1000)[:2000],
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(2000)),
        "".join(chr(rng.randint(0x400, 0x4FF)) for _ in range(2000)),
        ("💛" * 2000)[:2000],
        (" " * 1990 + "die")[:2000],
    ]


def chat_lines() -> list[str]:
    """The screening corpus's test part: realistic chat lines of every tier."""
    from safety import quality

    return [line.text for line in quality.load(quality.TEST)]


def corpus(seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    texts = EVERYDAY * 20 + CONCERNING * 10 + adversarial(rng) * 5 + chat_lines()
    rng.shuffle(texts)
    return texts


def load() -> Callable[[str], Any]:
    import django

    django.setup()
    module = importlib.import_module("safety.screening")
    return module.screen  # type: ignore[no-any-return]


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.screening_bench")
    parser.add_argument("--probe", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    screen = load()
    if args.probe:
        sys.stdout.write("{}\n")
        return
    texts = corpus()
    for text in texts[:50]:
        screen(text)  # warm caches and compiled patterns
    timings: list[int] = []
    long_timings: list[int] = []
    t0 = time.perf_counter()
    for _ in range(args.rounds):
        for text in texts:
            start = time.perf_counter_ns()
            screen(text)
            took = (time.perf_counter_ns() - start) // 1000
            timings.append(took)
            if len(text) >= 1900:
                long_timings.append(took)
    wall = time.perf_counter() - t0
    timings.sort()
    long_timings.sort()

    def pct(values: list[int], q: float) -> int | None:
        if not values:
            return None
        return values[min(len(values) - 1, max(0, int(q / 100 * len(values)) - 1))]

    result = {
        "messages": len(timings),
        "messages_per_second": round(len(timings) / wall, 1),
        "p50_us": pct(timings, 50),
        "p99_us": pct(timings, 99),
        "max_us": timings[-1],
        "adversarial_p99_us": pct(long_timings, 99),
        "adversarial_max_us": long_timings[-1] if long_timings else None,
        "corpus": {
            "everyday": len(EVERYDAY) * 20,
            "concerning": len(CONCERNING) * 10,
            "adversarial_2000_chars": len(adversarial(random.Random(0))) * 5,
            "chat_lines": len(chat_lines()),
        },
    }
    result["quality"] = quality()
    sys.stdout.write(json.dumps(result) + "\n")


def quality() -> dict[str, Any]:
    """Precision and recall per tier, and false alarms, on the corpus's test
    part (written separately, never used to build the screener): the rules
    alone, the model alone, and both as shipped (docs/safety.md)."""
    from safety import quality as q
    from safety import screening
    from safety.model import chat_sized, features, load

    model = load()
    lines = q.load(q.TEST)

    def rules_only(text: str) -> Any:
        return screening.rules(screening.normalised(text))

    def layered(use_rules: bool) -> Callable[[str], Any]:
        def screen(text: str) -> Any:
            items = screening.normalised(text)
            by_rules, hints = screening.scan(items)
            probabilities = model.probabilities(features(items, hints))
            return screening.decide(
                by_rules if use_rules else screening.NONE,
                probabilities,
                model,
                whole=chat_sized(items),
            )

        return screen

    shipped = "model alone" if model.layers == "model" else "both"
    reports = {
        "rules alone": q.evaluate(lines, rules_only),
        "model alone": q.evaluate(lines, layered(False)),
        "both": q.evaluate(lines, layered(True)),
    }
    # The shipped screener, through its public interface: the same figures
    # as its column above.
    reports[shipped] = q.evaluate(lines, screening.screen)
    reports = {f"{k} (shipped)" if k == shipped else k: v for k, v in reports.items()}
    parts = sorted({line.source.split(":")[0] for line in lines})
    by_part = {
        part: q.evaluate(
            [x for x in lines if x.source.startswith(part + ":")], screening.screen
        )
        for part in parts
    }
    return {
        "test_lines": len(lines),
        "parts": {part: r.figures() for part, r in by_part.items()},
        "parts_table": q.table(by_part),
        "shipped": shipped,
        "figures": {name: r.figures() for name, r in reports.items()},
        "table": q.table(reports),
    }


if __name__ == "__main__":
    main(sys.argv[1:])
