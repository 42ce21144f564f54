from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from demo.seed import DEMO_PASSWORD
from emulation.models import ExportJob
from tests.e2e.conftest import log_in
from tests.factories import ProgramFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_leadership_requests_an_emulation_export_and_downloads_it(
    page: Page, live_server, settings, celery_worker_process: subprocess.Popen, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = celery_worker_process.media_root  # the worker writes, this server serves
    settings.DEBUG = True  # seed_demo refuses to publish demo passwords otherwise
    call_command("seed_demo", initiatives=200)
    settings.DEBUG = False

    log_in(page, live_server.url + "/accounts/login/", "lanhdao")
    page.get_by_role("link", name="Xuất tiêu chí thi đua").click()
    expect(page).to_have_url(re.compile(r"/exports/$"))
    expect(page.get_by_label("Phạm vi (mã đơn vị)")).to_have_value("CTVN")
    page.get_by_label("Giai đoạn").select_option(label="Giai đoạn 1")
    page.get_by_role("button", name="Xuất", exact=True).click()

    expect(page.get_by_text("Đã đưa yêu cầu xuất vào hàng đợi")).to_be_visible()
    row = page.locator("[data-export-status]").first
    # The real worker builds it; the page follows its status without reloading.
    download_link = row.get_by_role("link", name="Tải về")
    expect(download_link).to_be_visible(timeout=60_000)
    expect(row.locator("[data-label]")).to_contain_text("Xong:")
    with page.expect_download() as info:
        download_link.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name.startswith("tieu-chi-thi-dua-CTVN-")
    workbook = openpyxl.load_workbook(saved)
    assert workbook.sheetnames == [
        "Trang bìa",
        "Khối LĐLĐ tỉnh, CĐ ngành",
        "Khối công đoàn cấp trên cơ sở",
        "Khối công đoàn cơ sở",
    ]
    cover = {row[0]: row[1] for row in workbook["Trang bìa"].iter_rows(values_only=True) if row[0]}
    assert cover["Giai đoạn"] == "Giai đoạn 1"
    assert cover["Người yêu cầu"]
    grassroots = list(workbook["Khối công đoàn cơ sở"].iter_rows(values_only=True))
    assert grassroots[0][-2:] == ("Điểm", "Xếp hạng trong cụm")
    assert len(grassroots) > 5


def test_the_page_follows_an_export_whose_worker_died_until_another_worker_finishes_it(
    page: Page, live_server, settings, leader, unit_tree
) -> None:
    leader.set_password(DEMO_PASSWORD)
    leader.save()
    program = ProgramFactory(slug="01-trieu-sang-kien")
    job = ExportJob.objects.create(program=program, scope=unit_tree.cong_thuong, requested_by=leader)
    lost = timezone.now() - dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS + 1)
    ExportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=lost, rows_done=10, total_rows=40)

    log_in(page, live_server.url + "/accounts/login/", "lanhdao")
    page.goto(live_server.url + "/exports/")
    row = page.locator("[data-export-status]").first
    expect(row.locator("[data-label]")).to_have_text(
        "Bị gián đoạn: tiến trình đang tạo tệp bị ngắt; một tiến trình khác sẽ sớm làm tiếp"
    )
    # Another worker takes it over and finishes it; the page, still polling, offers the file.
    ExportJob.objects.filter(pk=job.pk).update(
        status="done", file=f"exports/{job.pk}-0a1b2c3d-tieu-chi-thi-dua-CTVN.xlsx", rows_done=40, seconds=1.5,
        finished_at=timezone.now(),
    )  # fmt: skip
    expect(row.get_by_role("link", name="Tải về")).to_be_visible(timeout=15_000)
    expect(row.locator("[data-label]")).to_contain_text("Xong:")
