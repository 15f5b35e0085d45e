"""A small line chart of check-in and check-out moods, drawn as SVG
coordinates for a template (no client-side script, no chart library)."""

from __future__ import annotations

from dataclasses import dataclass

from .services import MoodPoint

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 40


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    score: int
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    css: str
    dots: list[Dot]

    @property
    def path(self) -> str:
        return " ".join(
            f"{'M' if i == 0 else 'L'}{d.x:.1f},{d.y:.1f}"
            for i, d in enumerate(self.dots)
        )


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    series: list[Series]
    gridlines: list[tuple[int, float]]  # (score, y)
    ticks: list[tuple[float, str]]  # (x, date label)


def _y(score: int) -> float:
    usable = HEIGHT - TOP - BOTTOM
    return TOP + usable * (5 - score) / 4


def build(points: list[MoodPoint]) -> Chart:
    count = len(points)
    usable = WIDTH - LEFT - RIGHT

    def x(i: int) -> float:
        return LEFT + (usable / 2 if count == 1 else usable * i / (count - 1))

    series = []
    for name, css, attr in (
        ("Check-in", "in", "check_in"),
        ("Check-out", "out", "check_out"),
    ):
        dots = [
            Dot(x(i), _y(score), score, f"{name} {p.day:%-d %b}: {score} of 5")
            for i, p in enumerate(points)
            if (score := getattr(p, attr)) is not None
        ]
        series.append(Series(name, css, dots))
    step = max(1, count // 6)
    ticks = [(x(i), f"{p.day:%-d %b}") for i, p in enumerate(points) if i % step == 0]
    return Chart(WIDTH, HEIGHT, series, [(s, _y(s)) for s in range(1, 6)], ticks)
