"""Small statistics helpers (no numpy: the harness stays dependency-free)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def median_range(values: Sequence[float | None]) -> dict[str, float | None]:
    """Median and range of repeated runs; None values (failed runs) are
    left out."""
    present = sorted(v for v in values if v is not None)
    if not present:
        return {"median": None, "min": None, "max": None, "runs": 0}
    middle = len(present) // 2
    median = (
        present[middle]
        if len(present) % 2
        else (present[middle - 1] + present[middle]) / 2
    )
    return {
        "median": median,
        "min": present[0],
        "max": present[-1],
        "runs": len(present),
    }
