"""What the layout test measures in a page: tests/e2e/layout.js, one evaluate per page."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

MEASURE = (Path(__file__).with_name("layout.js")).read_text(encoding="utf-8")


def layout_problems(page: Page, *, menu_on_one_line: bool, min_chart_font: float = 11) -> list[str]:
    return page.evaluate(MEASURE, {"menuOnOneLine": menu_on_one_line, "minChartFont": min_chart_font})
