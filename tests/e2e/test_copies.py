"""The national check for copied initiatives in the browser (issue 21, item 3): an officer who
submits a copy of an initiative of another branch is shown it and confirms; the board rejects the
copy as "trùng lặp", naming the original, which the officer's page then links. At 390 px, with
axe-core finding no serious or critical violation on the pages that show the check."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from initiatives.models import Initiative, StatusChange
from tests.e2e import axe
from tests.e2e.conftest import log_in
from unions.models import Union

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_copy_is_shown_on_submit_then_rejected_by_the_board_as_a_duplicate(page: Page, live_server, settings) -> None:
    settings.DEBUG = True  # seed_demo refuses to publish demo passwords otherwise
    call_command("seed_demo", initiatives=40)
    settings.DEBUG = False
    rangdong = Union.objects.get(code="CTVN-RANGDONG")
    original = (
        Initiative.objects.exclude(unit__path__startswith=rangdong.path)
        .filter(status=Initiative.Status.SUBMITTED, is_confidential=False)
        .select_related("unit")
        .first()
    )
    assert original is not None
    axe.serve_axe(page.context)
    page.set_viewport_size({"width": 390, "height": 844})

    log_in(page, live_server.url + "/accounts/login/", "canbo.rangdong")
    page.goto(live_server.url + "/initiatives/new/")
    page.get_by_label("Tên sáng kiến").fill(original.title)
    page.get_by_label("Lĩnh vực").select_option(label="Kỹ thuật – sản xuất")
    page.get_by_label("Loại giải pháp").select_option(label="Giải pháp kỹ thuật")
    page.get_by_label("Tóm tắt nội dung").fill(original.summary)
    page.get_by_label("Mô tả bản chất (thực trạng, giải pháp)").fill("Thực trạng và giải pháp.")
    page.get_by_label("Ngày áp dụng lần đầu").fill("15/03/2022")
    author = page.get_by_role("group", name="Tác giả 1")
    author.get_by_label("Họ và tên").fill("Nguyễn Văn An")
    author.get_by_label("Tỷ lệ đóng góp (%)").fill("100")
    page.get_by_role("button", name="Gửi", exact=True).click()

    warning = page.locator("#similar")
    expect(warning).to_contain_text("Kiểm tra trùng lặp toàn quốc")
    expect(warning).to_contain_text("Giống 100%")
    expect(warning).to_contain_text(f"{original.title} – {original.unit.name}")
    assert axe.report("the form asking about copies", axe.violations(page)) == []
    assert not Initiative.objects.filter(unit=rangdong, title=original.title).exists()  # nothing written yet

    page.get_by_label("Tôi xác nhận sáng kiến này không sao chép các sáng kiến trên: vẫn gửi").check()
    page.get_by_role("button", name="Gửi", exact=True).click()
    expect(page.get_by_text("Đã gửi sáng kiến tới Ban CSPL&QHLĐ.")).to_be_visible()
    copy = Initiative.objects.get(unit=rangdong, title=original.title)

    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server.url + "/admin/login/", "bancspl")
    page.goto(f"{live_server.url}/admin/initiatives/initiative/{copy.pk}/change/")
    table = page.locator("#similar")
    expect(table).to_contain_text("Các sáng kiến giống nhất đã gửi trên toàn quốc")
    expect(table.get_by_role("row").filter(has_text=original.title).first).to_contain_text("100%")
    assert axe.report("the board's review page", axe.violations(page)) == []
    page.get_by_label(f"Trùng lặp với số {original.pk}").check()
    page.get_by_role("button", name="Không hợp lệ").click()
    expect(page.get_by_text(f"“{copy.title}”: Không hợp lệ.")).to_be_visible()
    assert StatusChange.objects.get(initiative=copy, to_status="rejected").duplicate_of_id == original.pk

    log_in(page, live_server.url + "/accounts/login/", "canbo.rangdong")
    page.goto(f"{live_server.url}/initiatives/{copy.pk}/")
    expect(page.get_by_role("alert")).to_contain_text(f"Trùng lặp với sáng kiến số {original.pk} đã gửi trước.")
    expect(page.locator("#duplicate-of")).to_contain_text(f"{original.title} – {original.unit.name}")
