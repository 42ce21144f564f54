from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from initiatives.models import Initiative
from tests.e2e.conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def officer_page(page: Page, live_server, settings) -> Page:
    settings.DEBUG = True  # seed_demo refuses to publish demo passwords otherwise
    call_command("seed_demo", initiatives=40)
    settings.DEBUG = False
    log_in(page, live_server.url + "/accounts/login/", "canbo.rangdong")
    return page


def test_officer_drafts_with_two_authors_attaches_a_pdf_and_submits(officer_page: Page, tmp_path: Path) -> None:
    page = officer_page
    page.get_by_role("link", name="Thêm sáng kiến").click()
    page.get_by_label("Tên sáng kiến").fill("Hệ thống đèn LED tiết kiệm điện cho phân xưởng thủy tinh")
    first, second = page.get_by_role("group", name="Tác giả 1"), page.get_by_role("group", name="Tác giả 2")
    first.get_by_label("Họ và tên").fill("Nguyễn Văn An")
    first.get_by_label("Tỷ lệ đóng góp (%)").fill("60")
    second.get_by_label("Họ và tên").fill("Trần Thị Bình")
    second.get_by_label("Tỷ lệ đóng góp (%)").fill("40")
    page.get_by_role("button", name="Lưu nháp").click()
    expect(page.get_by_text("Đã lưu nháp.")).to_be_visible()

    pdf = tmp_path / "thuyet-minh.pdf"
    pdf.write_bytes(PDF)
    page.get_by_label("Tệp đính kèm").set_input_files(str(pdf))
    page.get_by_label("Lĩnh vực").select_option(label="Kỹ thuật – sản xuất")
    page.get_by_label("Loại giải pháp").select_option(label="Giải pháp kỹ thuật")
    page.get_by_label("Tóm tắt nội dung").fill("Thay đèn cao áp bằng đèn LED điều khiển theo ca.")
    page.get_by_label("Mô tả bản chất (thực trạng, giải pháp)").fill("Thực trạng: tốn điện. Giải pháp: LED.")
    page.get_by_label("Ngày áp dụng lần đầu").fill("15/03/2022")
    page.get_by_label("Giá trị làm lợi (đồng)").fill("120.000.000")
    page.screenshot(path=str(tmp_path / "form.png"), full_page=True)
    page.get_by_role("button", name="Gửi", exact=True).click()

    expect(page.get_by_text("Đã gửi sáng kiến tới Ban CSPL&QHLĐ.")).to_be_visible()
    expect(page.get_by_role("link", name="thuyet-minh.pdf")).to_be_visible()
    expect(page.get_by_text("120.000.000 đ")).to_be_visible()
    page.screenshot(path=str(tmp_path / "detail.png"), full_page=True)

    page.get_by_role("link", name="Sáng kiến của đơn vị").first.click()
    page.get_by_label("Tìm kiếm").fill("den led tiet kiem dien")
    page.get_by_role("button", name="Lọc").click()
    row = page.get_by_role("row").filter(has_text="Hệ thống đèn LED tiết kiệm điện")
    expect(row).to_have_count(1)
    expect(row.get_by_text("Đã gửi")).to_be_visible()
    page.screenshot(path=str(tmp_path / "list.png"), full_page=True)

    initiative = Initiative.objects.get(title__startswith="Hệ thống đèn LED")
    assert initiative.status == Initiative.Status.SUBMITTED
    assert [(a.full_name, int(a.share_percent)) for a in initiative.authors.all()] == [
        ("Nguyễn Văn An", 60),
        ("Trần Thị Bình", 40),
    ]
    assert initiative.attachments.get().content_type == "application/pdf"


def test_after_the_first_click_the_form_is_sent_no_more(officer_page: Page) -> None:
    page = officer_page
    page.get_by_role("link", name="Thêm sáng kiến").click()
    page.get_by_label("Tên sáng kiến").fill("Bấm hai lần vẫn chỉ một sáng kiến")
    author = page.get_by_role("group", name="Tác giả 1")
    author.get_by_label("Họ và tên").fill("Nguyễn Văn An")
    author.get_by_label("Tỷ lệ đóng góp (%)").fill("100")
    page.get_by_label("Lĩnh vực").select_option(label="Kỹ thuật – sản xuất")
    page.get_by_label("Loại giải pháp").select_option(label="Giải pháp kỹ thuật")
    page.get_by_label("Tóm tắt nội dung").fill("Một lần bấm, một sáng kiến.")
    page.get_by_label("Mô tả bản chất (thực trạng, giải pháp)").fill("Thực trạng và giải pháp.")
    page.get_by_label("Ngày áp dụng lần đầu").fill("15/03/2022")
    # After the page's own handlers, record whether each submit would leave the page, and keep the
    # page here so that a second click can be tried at leisure.
    page.evaluate(
        """() => {
            window.submits = [];
            window.addEventListener("submit", (event) => {
                window.submits.push(!event.defaultPrevented);
                event.preventDefault();
            });
        }"""
    )
    submit = page.get_by_role("button", name="Gửi", exact=True)
    submit.click()
    expect(submit).to_be_disabled()
    submit.click(force=True)  # what an impatient officer does
    page.keyboard.press("Enter")
    page.evaluate("document.querySelector('form[data-once]').requestSubmit()")
    submits = page.evaluate("window.submits")
    assert submits[0] is True and len(submits) >= 2 and not any(submits[1:])  # only the first one leaves
    assert not Initiative.objects.filter(title="Bấm hai lần vẫn chỉ một sáng kiến").exists()
