"""The dashboard's SVG charts are laid out in CSS pixels and percentages of their width, never
scaled to fit: their labels keep 11-12 px on a 390 px phone (issue 15, item 3; the browser check
is in tests/e2e/test_site_pages.py)."""

from __future__ import annotations

import datetime as dt

from sangkien.charts import BAR_SPAN, bar_chart, line_chart


def test_the_longest_bar_leaves_room_for_its_value_and_each_label_has_its_own_line() -> None:
    chart = bar_chart([("An toàn, vệ sinh lao động", 30), ("Môi trường", 15), ("Y tế", 0)])

    assert [bar.length for bar in chart.bars] == [BAR_SPAN, BAR_SPAN / 2, 0]
    assert BAR_SPAN <= 85  # the value is written after the bar, inside the chart
    tops = [bar.y for bar in chart.bars]
    assert tops == sorted(tops) and tops[1] - tops[0] >= chart.label_gap + chart.bar_height
    assert chart.height == tops[-1] + chart.label_gap + chart.bar_height


def test_the_weekly_line_spans_the_width_and_its_dates_sit_at_both_ends() -> None:
    weeks = [(dt.date(2022, 1, 10) + dt.timedelta(weeks=i), n) for i, n in enumerate([0, 4, 2, 8, 6])]
    chart = line_chart(weeks)

    assert [(tick.position, tick.label, tick.anchor) for tick in chart.x_ticks] == [
        (0, "10/01/2022", "start"),
        (50, "24/01/2022", "middle"),
        (100, "07/02/2022", "end"),
    ]
    xs = [float(point.split(",")[0]) for point in chart.points.split()]
    assert (xs[0], xs[-1]) == (0, chart.plot_width)
    assert [tick.label for tick in chart.y_labels] == ["0", "4", "8"]
    # Each value's label sits just above its gridline, inside the chart.
    for line, label in zip(chart.y_ticks, chart.y_labels, strict=True):
        assert label.position == round(chart.top + line.position - 4, 1)
        assert 0 < label.position < chart.height


def test_nothing_to_draw_gives_no_chart() -> None:
    assert line_chart([]) is None
    assert bar_chart([("Y tế", 0)]) is None
