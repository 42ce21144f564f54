from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from initiatives.models import Initiative
from tests.e2e.conftest import log_in
from unions.models import Union, User
from unions.permissions import reviewable

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_board_returns_an_initiative_and_the_officer_completes_and_resubmits(
    page: Page, live_server, settings
) -> None:
    settings.DEBUG = True  # seed_demo refuses to publish demo passwords otherwise
    call_command("seed_demo", initiatives=60)
    settings.DEBUG = False
    # The board works through Rạng Đông's queue, oldest first.
    rangdong = Union.objects.get(code="CTVN-RANGDONG")
    waiting = reviewable(
        Initiative.objects.filter(unit__path__startswith=rangdong.path, status="submitted"),
        User.objects.get(username="bancspl"),
    ).order_by("submitted_at", "pk")
    initiative, following = waiting[:2]

    queue = f"/admin/initiatives/reviewqueue/?subtree={rangdong.pk}"
    log_in(page, f"{live_server.url}/admin/login/?{urlencode({'next': queue})}", "bancspl")
    page.locator(f'a[href*="/reviewqueue/{initiative.pk}/change/"]').click()
    page.get_by_label("Lý do đơn vị sẽ thấy").fill("Đề nghị bổ sung phần mô tả giải pháp.")
    page.get_by_label("Ghi chú riêng của Ban").fill("Kiểm tra lại sau khi bổ sung")
    page.get_by_role("button", name="Yêu cầu bổ sung").click()

    # The decision lands on the next initiative of the same filtered queue, told what was done.
    expect(page.get_by_text(f"“{initiative.title}”: Yêu cầu bổ sung.")).to_be_visible()
    expect(page).to_have_url(
        re.compile(rf"/reviewqueue/{following.pk}/change/\?_changelist_filters=subtree%3D{rangdong.pk}$")
    )
    expect(page.get_by_text("không tồn tại")).to_have_count(0)
    expect(page.get_by_role("button", name="Hợp lệ", exact=True)).to_be_visible()

    log_in(page, f"{live_server.url}/accounts/login/", "canbo.rangdong")
    page.goto(f"{live_server.url}/initiatives/{initiative.pk}/")
    alert = page.get_by_role("alert").filter(has_text="Ban CSPL&QHLĐ đề nghị bổ sung sáng kiến")
    expect(alert).to_contain_text("Đề nghị bổ sung phần mô tả giải pháp.")
    expect(page.get_by_text("Kiểm tra lại sau khi bổ sung")).to_have_count(0)  # the private note

    page.get_by_role("link", name="Bổ sung và gửi lại").click()
    page.get_by_label("Mô tả bản chất (thực trạng, giải pháp)").fill("Thực trạng: ... Giải pháp: ...")
    page.get_by_role("button", name="Gửi", exact=True).click()
    expect(page.get_by_text("Đã gửi sáng kiến tới Ban CSPL&QHLĐ.")).to_be_visible()
    expect(page.locator(".badge").first).to_have_text("Đã gửi")
    initiative.refresh_from_db()
    assert initiative.status == Initiative.Status.SUBMITTED
    assert list(initiative.status_changes.values_list("to_status", flat=True))[-2:] == ["returned", "submitted"]
