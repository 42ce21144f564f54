from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server, settings) -> str:
    settings.DEBUG = True  # seed_demo refuses to publish demo passwords otherwise
    call_command("seed_demo", initiatives=200)  # it also takes two leaderboard snapshots
    settings.DEBUG = False
    return live_server.url


def test_leadership_opens_the_dashboard_and_sees_the_leading_units_and_both_charts(
    page: Page, demo: str, tmp_path: Path
) -> None:
    log_in(page, demo + "/accounts/login/", "lanhdao")

    page.get_by_role("link", name="Bảng điều hành").click()
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Công đoàn Công Thương Việt Nam")
    leaders = page.locator("[data-leaders]")
    expect(leaders).to_contain_text("đơn vị dẫn đầu khối công đoàn cấp trên trực tiếp cơ sở là")
    expect(leaders).to_contain_text("khối công đoàn cơ sở là")
    expect(page.get_by_role("heading", name="10 đơn vị dẫn đầu: Khối công đoàn cơ sở")).to_be_visible()
    # The demo programme ended on 01/09/2023: its final result, not a pace it can no longer keep.
    expect(page.locator("[data-progress]")).to_contain_text(
        re.compile(r"Kết quả cuối cùng: [\d.]+ sáng kiến, đạt \d+(,\d)? % chỉ tiêu")
    )
    expect(page.locator("[data-progress]")).not_to_contain_text("Chậm tiến độ")
    expect(page.get_by_role("img", name="Số sáng kiến gửi theo tuần")).to_be_visible()
    expect(page.get_by_role("img", name="Sáng kiến theo lĩnh vực")).to_be_visible()
    expect(page.locator("[data-chart=fields] rect").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    # A filter keeps its state in the URL, and the drill-down carries it.
    page.get_by_label("Giai đoạn", exact=True).select_option(label="Giai đoạn 1")
    page.get_by_role("button", name="Áp dụng").click()
    expect(page).to_have_url(re.compile(r"phase=\d+"))
    expect(page.get_by_label("Giai đoạn", exact=True)).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_role("heading", name="Tiến độ so với chỉ tiêu (Giai đoạn 1)")).to_be_visible()
    page.locator("[data-ranking=superior] a").first.click()
    expect(page).to_have_url(re.compile(r"/dashboard/unit/[^/]+/\?phase=\d+"))
    expect(page.get_by_role("heading", name="Xếp hạng các đơn vị trực thuộc")).to_be_visible()
