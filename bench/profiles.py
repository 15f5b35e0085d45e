"""Sizes and durations of the two profiles. Quick trades size and length
for a run under ten minutes on two cores; the report says which is which."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    point_seconds: float  # a load point in scenarios 1 and 2
    repeats: int
    s1_rates: tuple[float, ...] = (1, 2, 10)
    s2_size: int = 500
    s2_rates: tuple[float, ...] = (2, 10)
    s2_seconds: float = 10
    s3_rooms: int = 100
    s3_seconds: float = 60
    s4_step_seconds: float = 10
    s4_rates_30: tuple[float, ...] = (25, 50, 100, 200, 400, 800)
    s4_rates_500: tuple[float, ...] = (5, 10, 20, 40, 80)
    s5_sizes: tuple[int, ...] = (2000, 5000, 10000)
    s5_idle_seconds: float = 30
    s6_members: int = 2000
    s6_in_flight: int = 500
    s7_seconds: float = 90
    s7_slow: tuple[float, float] = (15, 75)
    s8_events: int = 1000
    s9_seconds: float = 30
    s9_groups: int = 1000
    s9_prompts: int = 10000
    s10_args: tuple[str, ...] = ()  # bench/reminders.py's defaults: 10,000 / 500
    s11_rounds: int = 5
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


FULL = Profile(
    name="full",
    point_seconds=60,
    repeats=3,
    s2_seconds=60,
    notes=["Load points of 60 s, 3 repeats (median and range)."],
)

QUICK = Profile(
    name="quick",
    point_seconds=3,
    repeats=1,
    s2_seconds=5,
    s3_rooms=20,
    s3_seconds=5,
    s4_step_seconds=3,
    s4_rates_30=(50, 200, 800),
    s4_rates_500=(10, 40),
    s5_sizes=(1000,),
    s5_idle_seconds=3,
    s6_members=500,
    s6_in_flight=200,
    s7_seconds=10,
    s7_slow=(3, 7),
    s8_events=1000,
    s9_seconds=4,
    s10_args=("--members", "2000", "--sessions", "100"),
    s11_rounds=1,
    notes=[
        "Quick profile: points of 3 s (5 s for the town hall), one repeat.",
        "Scenario 3 with 20 rooms instead of 100; scenario 4 with 3 and 2 "
        "rate steps of 3 s; scenario 5 at 1,000 connections only, idle for 3 s "
        "(seating 2,000 product members takes about two minutes); scenario 6 "
        "with 500 members and 200 handshakes in flight; scenario 7 with a "
        "4 s stall instead of 60 s; scenario 9 with 4 s per page; scenario 10 "
        "with 2,000 members across 100 sessions.",
    ],
)

# Seconds-long sizes for the smoke test in `make test`.
SMOKE = Profile(
    name="smoke",
    point_seconds=2,
    repeats=1,
    s1_rates=(2,),
    notes=["Smoke: a room of 3 for 2 s; proves the harness, measures nothing."],
)
