"""More than three authors in Chromium: rows are added and removed on the page, the shares' running
total follows what is typed, and the draft saves the authors as they stand; without JavaScript,
"Thêm dòng tác giả" still gives one more row and keeps what was typed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from initiatives.models import Initiative
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_url(live_server, settings) -> str:
    settings.DEBUG = True  # seed_demo refuses to publish demo passwords otherwise
    call_command("seed_demo", initiatives=5)
    settings.DEBUG = False
    return live_server.url


def fill_author(page: Page, number: int, name: str, share: str) -> None:
    row = page.get_by_role("group", name=f"Tác giả {number}")
    row.get_by_label("Họ và tên").fill(name)
    row.get_by_label("Tỷ lệ đóng góp (%)").fill(share)


def test_officer_adds_and_removes_author_rows_and_sees_the_running_total(
    page: Page, demo_url: str, tmp_path: Path
) -> None:
    log_in(page, demo_url + "/accounts/login/", "canbo.rangdong")
    page.get_by_role("link", name="Thêm sáng kiến").click()
    page.get_by_label("Tên sáng kiến").fill("Dây chuyền đóng gói bóng đèn của năm tác giả")
    rows = page.locator("[data-author-row]")  # the rows, not the fieldset (also a group "Tác giả")
    summary = page.locator("[data-share-total]")
    total_forms = page.locator('input[name="authors-TOTAL_FORMS"]')
    expect(rows).to_have_count(3)
    expect(summary).to_have_text("Tổng tỷ lệ đóng góp: 0 %", use_inner_text=True)

    fill_author(page, 1, "Nguyễn Văn An", "40")
    expect(summary).to_have_text("Tổng tỷ lệ đóng góp: 40 % (tổng phải bằng 100 %)", use_inner_text=True)
    fill_author(page, 2, "Trần Thị Bình", "15")
    fill_author(page, 3, "Lê Văn Cường", "20,5")
    url = page.url
    page.get_by_role("button", name="Thêm dòng tác giả").click()
    expect(rows).to_have_count(4)
    expect(page.get_by_role("group", name="Tác giả 4").get_by_label("Họ và tên")).to_be_focused()
    assert page.url == url  # added on the page: nothing was sent
    fill_author(page, 4, "Phạm Thị Dung", "24,5")
    expect(summary).to_have_text("Tổng tỷ lệ đóng góp: 100 %", use_inner_text=True)

    page.get_by_role("button", name="Thêm dòng tác giả").click()
    fill_author(page, 5, "Hoàng Văn Em", "15")
    expect(summary).to_have_text("Tổng tỷ lệ đóng góp: 115 % (tổng phải bằng 100 %)", use_inner_text=True)
    expect(total_forms).to_have_value("5")
    page.screenshot(path=str(tmp_path / "authors-wide.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(tmp_path / "authors-390.png"), full_page=True)

    # Trần Thị Bình leaves: the rows below move up and are numbered again.
    page.get_by_role("button", name="Xóa tác giả 2").click()
    expect(rows).to_have_count(4)
    expect(total_forms).to_have_value("4")
    expect(page.get_by_role("group", name="Tác giả 2").get_by_label("Họ và tên")).to_have_value("Lê Văn Cường")
    expect(page.get_by_role("group", name="Tác giả 4").get_by_label("Họ và tên")).to_have_value("Hoàng Văn Em")
    expect(summary).to_have_text("Tổng tỷ lệ đóng góp: 100 %", use_inner_text=True)

    page.get_by_role("button", name="Lưu nháp").click()
    expect(page.get_by_text("Đã lưu nháp.")).to_be_visible()
    draft = Initiative.objects.get(title__startswith="Dây chuyền đóng gói bóng đèn")
    assert [(a.full_name, a.share_percent) for a in draft.authors.all()] == [
        ("Nguyễn Văn An", Decimal(40)),
        ("Lê Văn Cường", Decimal("20.5")),
        ("Phạm Thị Dung", Decimal("24.5")),
        ("Hoàng Văn Em", Decimal(15)),
    ]
    # The draft's page comes back with its four authors as saved (and the total), and an empty row.
    expect(rows).to_have_count(5)
    expect(page.get_by_role("group", name="Tác giả 4").get_by_label("Họ và tên")).to_have_value("Hoàng Văn Em")
    expect(summary).to_have_text("Tổng tỷ lệ đóng góp: 100 %", use_inner_text=True)


def test_without_javascript_add_author_row_sends_the_form_and_comes_back_one_row_longer(
    browser: Browser, browser_context_args: dict, demo_url: str
) -> None:
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, demo_url + "/accounts/login/", "canbo.rangdong")
        page.goto(demo_url + "/initiatives/new/")
        page.get_by_label("Tên sáng kiến").fill("Sáng kiến gõ khi tắt JavaScript")
        for number, (name, share) in enumerate([("Nguyễn Văn An", "50"), ("Trần Thị Bình", "30"),
                                                ("Lê Văn Cường", "20")], start=1):  # fmt: skip
            fill_author(page, number, name, share)
        page.get_by_role("button", name="Thêm dòng tác giả").click()
        expect(page.get_by_role("group", name="Tác giả 4")).to_be_visible()
        expect(page.get_by_label("Tên sáng kiến")).to_have_value("Sáng kiến gõ khi tắt JavaScript")
        expect(page.get_by_role("group", name="Tác giả 3").get_by_label("Họ và tên")).to_have_value("Lê Văn Cường")
        assert page.url.endswith("#authors")
        fill_author(page, 4, "Phạm Thị Dung", "0,5")
        page.get_by_role("button", name="Lưu nháp").click()
        expect(
            page.get_by_text("Tổng tỷ lệ đóng góp của các tác giả phải bằng 100%; hiện đang là 100,5%.")
        ).to_be_visible()
        assert not Initiative.objects.filter(title="Sáng kiến gõ khi tắt JavaScript").exists()
    finally:
        context.close()
