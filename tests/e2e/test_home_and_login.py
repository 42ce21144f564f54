from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from demo.seed import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server, settings) -> str:
    settings.DEBUG = True  # seed_demo refuses to publish demo passwords otherwise
    call_command("seed_demo", initiatives=120)
    settings.DEBUG = False
    return live_server.url


def test_visitor_sees_the_programme_and_the_demo_officer_logs_in(page: Page, demo: str, tmp_path: Path) -> None:
    page.goto(demo + "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("01 triệu sáng kiến")
    progress = page.get_by_role("progressbar", name="Số sáng kiến đã gửi so với chỉ tiêu của chương trình")
    expect(progress).to_be_visible()
    expect(page.get_by_text("trên chỉ tiêu 1.000.000")).to_be_visible()

    page.get_by_role("link", name="Đăng nhập").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Tên đăng nhập").fill("canbo.rangdong")
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()

    expect(page).to_have_url(demo + "/")
    expect(page.get_by_text("Nguyễn Thị Lan · CĐ Rạng Đông")).to_be_visible()
    page.screenshot(path=str(tmp_path / "home-logged-in.png"), full_page=True)

    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()


def test_a_wrong_password_shows_a_vietnamese_error(page: Page, demo: str) -> None:
    page.goto(demo + "/accounts/login/")
    page.get_by_label("Tên đăng nhập").fill("canbo.rangdong")
    page.get_by_label("Mật khẩu").fill("sai")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_text("mật khẩu chính xác")).to_be_visible()
