from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Locator, Page, Route, expect

from initiatives.models import Initiative
from questions.models import Question
from sangkien.spreadsheets import XLSX_CONTENT_TYPE
from tests.e2e.conftest import log_in
from tests.initiatives.test_import_initiatives import good_row, workbook

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


# Installed before the first click, after the page's own handlers: records in the tab's session
# storage (kept across the navigation) whether each submit leaves the page and, just after the
# first, whether the buttons are disabled, then clicks one and submits the form by script.
IMPATIENT = """() => {
    const save = (log) => sessionStorage.setItem("submits", JSON.stringify(log));
    window.addEventListener("submit", (event) => {
        const log = JSON.parse(sessionStorage.getItem("submits") || "null");
        if (log) {
            log.later.push(!event.defaultPrevented);
            save(log);
            return;
        }
        save({first: !event.defaultPrevented, later: [], disabled: null});
        const form = event.target;
        window.setTimeout(() => {
            const buttons = [...form.querySelectorAll("button[type=submit]")];
            const log = JSON.parse(sessionStorage.getItem("submits"));
            log.disabled = buttons.length > 0 && buttons.every((button) => button.disabled);
            save(log);
            buttons[0].click();
            form.requestSubmit();
        }, 50);
    });
}"""


def sent_once(page: Page, path: str, button: Locator, then: str) -> tuple[list[str], dict]:
    """Click `button` of the form at `path`; while its request is held on the way (a slow network),
    the officer clicks again, presses Enter and the form is submitted by script. Returns the POSTs
    the browser sent and what the page recorded, once the page shows `then`. (While a page waits
    for its answer, Playwright's locators wait too: the page acts by itself meanwhile.)"""
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    held: list[Route] = []
    page.route(f"**{path}", lambda route: held.append(route) if route.request.method == "POST" else route.fallback())
    page.evaluate(IMPATIENT)
    box = button.bounding_box()
    assert box is not None
    button.click(no_wait_after=True)
    page.wait_for_timeout(300)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)  # time for a second request to leave, if any did
    assert len(held) == 1, [route.request.url for route in held]
    held[0].continue_()
    expect(page.get_by_text(then)).to_be_visible()
    page.unroute(f"**{path}")
    return posts, page.evaluate("JSON.parse(sessionStorage.getItem('submits'))")


def test_after_the_first_click_the_import_is_sent_once(officer_page: Page, live_server, tmp_path: Path) -> None:
    page = officer_page
    before = Initiative.objects.count()
    sheet = tmp_path / "sang-kien.xlsx"
    book = workbook([good_row("CTVN-RANGDONG", title="Nhập một lần dù bấm hai lần")])
    sheet.write_bytes(book.getvalue())
    page.goto(live_server.url + reverse("initiatives:import"))
    page.get_by_label("Tệp bảng tính (.xlsx, .xlsm, .xls hoặc .ods)").set_input_files(str(sheet))
    form = {name: page.locator(f"#main input[name={name}]").input_value() for name in ("once", "csrfmiddlewaretoken")}
    posts, recorded = sent_once(
        page,
        reverse("initiatives:import"),
        page.get_by_role("button", name="Nhập sáng kiến"),
        "Đã nhập và gửi 1 sáng kiến.",
    )
    assert len(posts) == 1, posts
    assert recorded["first"] and recorded["disabled"] and recorded["later"] and not any(recorded["later"]), recorded
    imported = Initiative.objects.get(title="Nhập một lần dù bấm hai lần")
    assert Initiative.objects.count() == before + 1
    # It lands on the list of what it imported, and so does the same form sent again (a resent request).
    narrowed = f"{reverse('initiatives:list')}?import={imported.import_token}"
    assert page.url == live_server.url + narrowed
    shows_exactly_the_imported_row(page)
    again = page.request.post(
        live_server.url + reverse("initiatives:import"),
        multipart={**form, "file": {"name": sheet.name, "mimeType": XLSX_CONTENT_TYPE, "buffer": book.getvalue()}},
        headers={"Referer": page.url},
        max_redirects=0,
    )
    assert again.status == 302 and again.headers["location"] == narrowed, again.headers
    page.goto(live_server.url + narrowed)
    expect(page.get_by_text("Biểu mẫu này đã được gửi trước đó")).to_be_visible()
    shows_exactly_the_imported_row(page)
    assert Initiative.objects.count() == before + 1
    # The note's link shows the whole list again.
    page.get_by_role("link", name="Xem tất cả sáng kiến").click()
    expect(page.get_by_text("Đây là các sáng kiến của lần nhập từ Excel này.")).to_have_count(0)
    expect(page.locator("tbody tr").nth(1)).to_be_visible()  # the unit's other initiatives too


def shows_exactly_the_imported_row(page: Page) -> None:
    expect(page.get_by_text("Đây là các sáng kiến của lần nhập từ Excel này.")).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody tr")).to_contain_text("Nhập một lần dù bấm hai lần")


def test_after_the_first_click_the_question_is_sent_once(officer_page: Page, live_server) -> None:
    page = officer_page
    page.goto(live_server.url + reverse("questions:create"))
    page.get_by_label("Tiêu đề").fill("Hỏi một lần dù bấm hai lần")
    page.get_by_label("Nội dung câu hỏi").fill("Tỷ lệ đóng góp của tác giả tính thế nào?")
    posts, recorded = sent_once(
        page,
        reverse("questions:create"),
        page.get_by_role("button", name="Gửi câu hỏi"),
        "Đã gửi câu hỏi tới Ban CSPL&QHLĐ.",
    )
    assert len(posts) == 1, posts
    assert recorded["first"] and recorded["disabled"] and recorded["later"] and not any(recorded["later"]), recorded
    assert Question.objects.filter(subject="Hỏi một lần dù bấm hai lần").count() == 1
