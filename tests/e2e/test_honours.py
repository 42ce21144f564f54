"""From a proposal to the published honour roll, in Chromium (issue 19, item 7): Công Thương's
leadership picks a snapshot and a quarter, prepares a draft, leaves a unit out with a reason and
issues the decision; a visitor then finds it from the menu, with the units honoured and their
figures, nothing of the unit left out, and downloads the decision as a PDF."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from honours.models import HonourDecision
from initiatives.models import Program, QuarterTarget
from leaderboard.models import LeaderboardSnapshot
from tests.e2e.conftest import log_in
from unions.models import Union

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_leadership_decides_and_the_public_sees_the_honours(page: Page, live_server, settings) -> None:
    settings.DEBUG = True  # seed_demo refuses to publish demo passwords otherwise
    call_command("seed_demo", initiatives=120)
    settings.DEBUG = False
    program = Program.objects.get()
    # Q1/2022's targets, low enough that the quarter's leaders are above them.
    QuarterTarget.objects.bulk_create(
        [QuarterTarget(program=program, unit=unit, year=2022, quarter=1, quantity=1) for unit in Union.objects.all()]
    )
    latest = LeaderboardSnapshot.objects.order_by("-taken_at").first()

    log_in(page, f"{live_server.url}/accounts/login/", "lanhdao")
    page.get_by_role("button", name="Xem thêm").click()
    page.get_by_role("link", name="Đề xuất vinh danh").click()
    page.get_by_label("Số liệu tính đến").select_option(str(latest.pk))
    page.get_by_label("Kỳ").select_option(label="Quý 1/2022")
    page.get_by_role("button", name="Xem", exact=True).click()
    expect(page.get_by_text("Kỳ: Quý 1/2022 · phạm vi Công đoàn Công Thương Việt Nam")).to_be_visible()
    expect(page.get_by_text("Đạt quy định").first).to_be_visible()
    page.get_by_role("button", name="Lập dự thảo quyết định từ đề xuất này").click()
    expect(page.get_by_text("Đã lập dự thảo quyết định")).to_be_visible()

    draft = HonourDecision.objects.get(status="draft")
    meeting = [entry for entry in draft.entries.order_by("position") if entry.meets]
    assert len(meeting) >= 2
    left_out = meeting[0]
    page.locator(f"#reason-{left_out.pk}").fill("Đã khen ở đợt trước")
    page.locator(f"#reason-{left_out.pk}").locator("xpath=..").get_by_role("button", name="Loại").click()
    expect(page.get_by_text("Đã loại đơn vị.")).to_be_visible()
    expect(page.get_by_text("Đã loại: Đã khen ở đợt trước")).to_be_visible()

    page.get_by_label("Số quyết định").fill("25/QĐ-CĐCT")
    today = timezone.localdate()  # the figures are this hour's: the decision is dated today
    page.get_by_label("Ngày quyết định").fill(today.strftime("%d/%m/%Y"))
    page.get_by_label("Người ký").fill("Phạm Đức Thanh")
    page.get_by_role("button", name="Ban hành và công bố").click()
    expect(page.get_by_text("Đã ban hành và công bố quyết định.")).to_be_visible()
    decision = HonourDecision.objects.get(number="25/QĐ-CĐCT")
    honoured = [entry for entry in decision.entries.order_by("position") if entry.honoured]
    assert decision.status == "issued" and honoured

    # A visitor, from the menu.
    page.context.clear_cookies()
    page.goto(live_server.url + "/")
    page.get_by_role("navigation", name="Menu chính").get_by_role("link", name="Vinh danh", exact=True).click()
    page.get_by_label("Kỳ").select_option(label="Quý 1/2022")
    page.get_by_role("button", name="Xem", exact=True).click()
    expect(page.get_by_text(f"Quyết định 25/QĐ-CĐCT ngày {today:%d/%m/%Y}, người ký Phạm Đức Thanh")).to_be_visible()
    for entry in honoured:
        expect(page.get_by_role("cell", name=entry.unit_name, exact=True).first).to_be_visible()
    expect(page.get_by_text("Đã khen ở đợt trước")).to_have_count(0)
    page.get_by_role("link", name="Quyết định 25/QĐ-CĐCT").click()
    expect(page).to_have_url(re.compile(rf"/vinh-danh/{decision.pk}/$"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Quyết định (PDF)").click()
    path = download.value.path()
    assert path is not None and path.read_bytes()[:5] == b"%PDF-"
    assert download.value.suggested_filename == "Quyết định vinh danh 25-QĐ-CĐCT.pdf"
