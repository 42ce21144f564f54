"""Charts drawn on the server as SVG: no JavaScript library, no CDN; each page also shows a table.

The charts have no viewBox of their own: their units are CSS pixels, so their text keeps its size
(11-12 px) on a 390 px phone as on a laptop, where a chart scaled to fit the screen shrank its
labels to about 5 px. Horizontal positions are percentages of the chart's width; only the line
itself sits in an inner SVG that stretches to the width (`preserveAspectRatio="none"`, its stroke
kept at 2 px by `vector-effect`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PLOT_WIDTH = 1000  # the inner plot's own units across; stretched to the chart's width


@dataclass(frozen=True, kw_only=True)
class Tick:
    position: float  # y: pixels from the chart's top; x: percent of its width
    label: str
    anchor: str = "middle"  # SVG text-anchor: the first and last labels stay inside the chart


@dataclass(frozen=True, kw_only=True)
class LineChart:
    height: int  # pixels
    top: int  # where the plot starts (pixels)
    plot_height: int
    plot_width: int
    points: str  # the polyline's "x,y x,y …" in the plot's units
    area: str  # the same line closed along the axis, for the shaded area
    y_ticks: list[Tick]  # gridlines, in the plot's units
    y_labels: list[Tick]  # their labels, just above each line, in pixels from the chart's top
    x_ticks: list[Tick]
    label_y: int  # baseline of the dates under the plot


def line_chart(series: list[tuple[dt.date, int]], *, height: int = 240) -> LineChart | None:
    """Weekly counts as a line; None when there is nothing to draw."""
    if not series:
        return None
    top, bottom = 18, height - 28
    plot_height = bottom - top
    peak = max(n for _, n in series) or 1
    last = max(len(series) - 1, 1)

    def y(n: int) -> float:
        return round(plot_height - plot_height * n / peak, 1)

    coords = [(round(PLOT_WIDTH * i / last, 1), y(n)) for i, (_, n) in enumerate(series)]
    points = " ".join(f"{x},{yy}" for x, yy in coords)
    area = f"{coords[0][0]},{plot_height} {points} {coords[-1][0]},{plot_height}"
    y_ticks = [Tick(position=y(value), label=f"{value:,}".replace(",", ".")) for value in sorted({0, peak // 2, peak})]
    y_labels = [Tick(position=round(top + tick.position - 4, 1), label=tick.label, anchor="start") for tick in y_ticks]
    marks = sorted({0, len(series) // 2, len(series) - 1})
    anchors = {0: "start", len(series) - 1: "end"}
    x_ticks = [
        Tick(
            position=round(100 * i / last, 2), label=series[i][0].strftime("%d/%m/%Y"), anchor=anchors.get(i, "middle")
        )
        for i in marks
    ]
    return LineChart(
        height=height, top=top, plot_height=plot_height, plot_width=PLOT_WIDTH, points=points, area=area,
        y_ticks=y_ticks, y_labels=y_labels, x_ticks=x_ticks, label_y=bottom + 18,
    )  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Bar:
    label: str
    value: int
    y: int  # the row's top, in pixels: the label's line, then the bar
    length: float  # percent of the chart's width (at most BAR_SPAN, leaving room for the value)


@dataclass(frozen=True, kw_only=True)
class BarChart:
    height: int
    bars: list[Bar]
    bar_height: int
    label_gap: int  # from the row's top to the bar's top: the label's line


BAR_SPAN = 85  # percent of the width for the longest bar; its value follows it


def bar_chart(values: list[tuple[str, int]], *, bar_height: int = 14) -> BarChart | None:
    """Horizontal bars, one per label written above its bar; None when every value is 0."""
    if not values or not any(value for _, value in values):
        return None
    label_gap, gap = 18, 10
    row = label_gap + bar_height + gap
    peak = max(value for _, value in values)
    bars = [
        Bar(label=label, value=value, y=i * row, length=round(BAR_SPAN * value / peak, 2))
        for i, (label, value) in enumerate(values)
    ]
    return BarChart(height=len(values) * row - gap, bars=bars, bar_height=bar_height, label_gap=label_gap)
