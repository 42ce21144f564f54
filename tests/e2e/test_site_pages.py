"""Every main page, portal and admin, for every role (issue 15, items 3 and 4), visited once per width:

- accessible: axe-core's WCAG 2.1 A and AA checks find no critical and no serious violation (every
  role, at 1366 px);
- holds at a laptop's 1366 px and a phone's 390 px (the officer's, the leadership's and a province
  board's pages): the page never scrolls sideways, the menu fits with each item on one line, select
  boxes show their whole choice, the main actions can be reached, chart labels stay legible.

Screenshots of each page with a layout problem go to the test's tmp folder (printed on failure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import axe
from tests.e2e.layout import layout_problems
from tests.e2e.site_map import ACCOUNTS, Demo, main_pages, seed, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
LAYOUT_ROLES = ("officer", "leadership", "provincial_reviewer")


def visit(page: Page, demo: Demo, role: str, name: str, path: str) -> None:
    response = page.goto(demo.url + path, wait_until="domcontentloaded")  # styles are in by then
    assert response is not None and response.status == 200, f"{role} · {name} ({path}): {response and response.status}"


def test_every_main_page_is_accessible_and_holds_on_a_laptop_and_a_phone(
    browser: Browser, live_server, settings, tmp_path: Path
) -> None:
    demo = seed(live_server.url, settings)
    violations: list[str] = []
    layout: list[str] = []
    checked = 0

    def measure(page: Page, device: str, role: str, name: str, path: str) -> None:
        found = layout_problems(page, menu_on_one_line=device == "laptop")
        layout.extend(f"{device} · {role} · {name} ({path}): {problem}" for problem in found)
        if found:  # a picture of what is wrong (taking one of every page was a third of the test's time)
            shot = tmp_path / f"{device}-{role}-{name.replace(' ', '-')}.jpeg"
            page.screenshot(path=str(shot), full_page=True, type="jpeg", quality=70)  # a quarter of PNG's time

    for role in ACCOUNTS:
        with signed_in(browser, role, demo, viewport=LAPTOP) as context:
            axe.serve_axe(context)
            page = context.new_page()
            for name, path in main_pages(role, demo):
                visit(page, demo, role, name, path)
                violations += axe.report(f"{role} · {name} ({path})", axe.violations(page))
                if role in LAYOUT_ROLES:
                    measure(page, "laptop", role, name, path)
                checked += 1
        if role in LAYOUT_ROLES:
            with signed_in(browser, role, demo, viewport=PHONE, is_mobile=True, has_touch=True) as context:
                page = context.new_page()
                for name, path in main_pages(role, demo):
                    visit(page, demo, role, name, path)
                    measure(page, "phone", role, name, path)

    assert checked > 55  # every role's pages were opened, not an empty site map
    assert not (violations or layout), (
        f"{len(violations)} critical or serious accessibility violations:\n" + "\n".join(violations)
        + f"\n{len(layout)} layout problems:\n" + "\n".join(layout) + f"\nScreenshots: {tmp_path}"
    )  # fmt: skip


def test_a_keyboard_user_skips_to_the_content_and_sees_where_focus_is_in_the_menu(
    browser: Browser, live_server, settings
) -> None:
    demo = seed(live_server.url, settings)
    with signed_in(browser, "officer", demo, viewport=LAPTOP) as context:
        page = context.new_page()
        visit(page, demo, "officer", "list", "/initiatives/")
        page.keyboard.press("Tab")
        skip = page.get_by_role("link", name="Bỏ qua đến nội dung chính")
        expect(skip).to_be_focused()
        expect(skip).to_be_visible()
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()

        page.keyboard.press("Shift+Tab")  # back into the menu, from its end: the log-out button
        page.keyboard.press("Shift+Tab")
        menu_link = page.locator(".site-navbar :focus")
        expect(menu_link).to_have_count(1)
        ring = menu_link.evaluate(
            "el => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
        )
        assert ring == ["solid", "3px", "rgb(255, 212, 59)"], ring  # amber on the blue bar
        current = page.locator(".site-navbar [aria-current=page]")
        expect(current).to_have_text("Sáng kiến của đơn vị")


def test_required_fields_are_marked_in_their_labels(browser: Browser, live_server, settings) -> None:
    demo = seed(live_server.url, settings)
    with signed_in(browser, "officer", demo, viewport=LAPTOP) as context:
        page = context.new_page()
        for path in ("/initiatives/new/", "/initiatives/questions/new/"):
            visit(page, demo, "officer", "form", path)
            unmarked = page.evaluate(
                """() => [...document.querySelectorAll("main [required]")]
                    .filter((input) => ![...input.labels].some((label) => label.querySelector(".asteriskField")))
                    .map((input) => input.name)"""
            )
            assert page.locator("main [required]").count() >= 2, path
            assert unmarked == [], f"{path}: required without a marked label: {unmarked}"
