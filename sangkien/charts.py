"""Charts drawn on the server as SVG: no JavaScript library, no CDN; each page also shows a table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Tick:
    position: float
    label: str
    anchor: str = "middle"  # SVG text-anchor: the first and last labels stay inside the chart


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    points: str  # the polyline's "x,y x,y …"
    area: str  # the same line closed along the axis, for the shaded area
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    left: int
    bottom: int
    right: int


def line_chart(series: list[tuple[dt.date, int]], *, width: int = 720, height: int = 240) -> LineChart | None:
    """Weekly counts as a line; None when there is nothing to draw."""
    if not series:
        return None
    left, right, top, bottom = 56, width - 12, 12, height - 28
    peak = max(n for _, n in series) or 1
    step = (right - left) / max(len(series) - 1, 1)

    def y(n: int) -> float:
        return round(bottom - (bottom - top) * n / peak, 1)

    coords = [(round(left + i * step, 1), y(n)) for i, (_, n) in enumerate(series)]
    points = " ".join(f"{x},{yy}" for x, yy in coords)
    area = f"{coords[0][0]},{bottom} {points} {coords[-1][0]},{bottom}"
    y_ticks = [Tick(y(value), f"{value:,}".replace(",", ".")) for value in sorted({0, peak // 2, peak})]
    marks = sorted({0, len(series) // 2, len(series) - 1})
    anchors = {0: "start", len(series) - 1: "end"}
    x_ticks = [Tick(coords[i][0], series[i][0].strftime("%d/%m/%Y"), anchors.get(i, "middle")) for i in marks]
    return LineChart(width, height, points, area, y_ticks, x_ticks, left, bottom, right)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: float
    length: float


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    left: int
    bars: list[Bar]
    bar_height: int


def bar_chart(values: list[tuple[str, int]], *, width: int = 720, bar_height: int = 22) -> BarChart | None:
    """Horizontal bars, one per label; None when every value is 0."""
    if not values or not any(value for _, value in values):
        return None
    left, gap = 230, 8
    peak = max(value for _, value in values)
    span = width - left - 70
    bars = [
        Bar(label, value, i * (bar_height + gap), round(span * value / peak, 1))
        for i, (label, value) in enumerate(values)
    ]
    return BarChart(width, len(values) * (bar_height + gap), left, bars, bar_height)
