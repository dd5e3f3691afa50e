"""The chats page's week-on-week chart: participants and newcomers per chat, as SVG geometry.

Pure: `bar_chart` turns (label, participants, newcomers) points into rectangles,
axis ticks and labels in SVG user units; the template (reading/chart.html) draws them
inside an <svg> with a <title> and <desc>, and a table beside it gives the same
numbers for screen readers and for people who prefer numbers. No scripts, nothing
loaded from elsewhere: colours come from classes in site.css.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["HEIGHT", "WIDTH", "Bar", "Chart", "Point", "bar_chart"]

WIDTH = 720
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 36
MAX_LABELS = 13


@dataclass(frozen=True, slots=True)
class Point:
    """One chat: its short label (a local date) and its counts."""

    label: str
    participants: int
    newcomers: int


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "participants" or "newcomers": the CSS class
    value: int


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    left: int
    bottom: float
    right: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]


def bar_chart(points: Sequence[Point]) -> Chart:
    """Grouped bars, oldest chat on the left; the y axis from 0 to a round maximum."""
    top = _round_up(max([p.participants for p in points] + [1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / max(len(points), 1)
    bar_w = group * 0.36
    base = TOP + plot_h
    bars: list[Bar] = []
    labels: list[Label] = []
    every = max(1, -(-len(points) // MAX_LABELS))
    for index, point in enumerate(points):
        x = LEFT + index * group + group * 0.12
        for offset, kind, value in (
            (0.0, "participants", point.participants),
            (bar_w, "newcomers", point.newcomers),
        ):
            height = plot_h * value / top
            bars.append(Bar(round(x + offset, 1), round(base - height, 1), round(bar_w, 1),
                            round(height, 1), kind, value))  # fmt: skip
        if index % every == 0 or index == len(points) - 1:
            labels.append(Label(round(LEFT + (index + 0.5) * group, 1), point.label))
    ticks = tuple(Tick(round(base - plot_h * v / top, 1), v) for v in (0, top // 2, top))
    return Chart(WIDTH, HEIGHT, LEFT, base, WIDTH - RIGHT, tuple(bars), ticks, tuple(labels))


def _round_up(value: int) -> int:
    """A round number at least `value` (and even, so half of it is whole): 10, 20, 50, 100..."""
    step = 1
    while True:
        for nice in (2, 4, 10, 20):
            if nice * step >= value:
                return nice * step
        step *= 10
