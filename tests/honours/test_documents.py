"""An issued decision's documents (issue 19, item 5): the list as .xlsx (a sheet per level block,
Vietnamese headers, text never a formula) and the decision as a PDF in Vietnamese administrative
style whose text, extracted again, holds every name with no glyph missing; built once, in the
background when large (by a real worker), one builder at a time."""

from __future__ import annotations

import datetime as dt
import logging
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import openpyxl
import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from honours import documents, services
from honours.models import HonourDecision
from initiatives.models import QuarterTarget
from leaderboard.snapshots import leaderboard_snapshot
from tests.honour_tree import on
from unions.models import Union

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://x.example","Bấm vào")'


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.fixture
def decision(tree, program, roles) -> HonourDecision:
    """Q3/2022 with targets that let more units be honoured, one of them named like a formula and
    one with the rarer Vietnamese letters, from a snapshot taken after the renames."""
    units = tree["units"]
    for unit, quantity in ((units.cong_thuong, 1), (units.thep, 1), (units.bia, 3), (units.rang_dong, 1)):
        QuarterTarget.objects.update_or_create(
            program=program, unit=unit, year=2022, quarter=3, defaults={"quantity": quantity}
        )
    Union.objects.filter(pk=units.rang_dong.pk).update(name=FORMULA)
    Union.objects.filter(pk=units.thep.pk).update(name="Công đoàn Tổng Công ty Thép – Ỹ Ữ Ặ Ợ Đ ỵ ữ ặ ợ đ")
    snapshot, _ = leaderboard_snapshot(program=program, at=on(dt.date(2023, 1, 3)))
    user = roles["national_leadership"]
    choice = services.period_of(program, "2022-3", snapshot)
    draft = services.decision_prepare(user=user, snapshot=snapshot, choice=choice, scope=units.root)
    return services.decision_issue(
        user=user,
        decision=draft,
        number="125/QĐ-TLĐ",
        signed_on=dt.date(2023, 1, 10),
        signer="Nguyễn Đình Khang",
        place="Hà Nội",
        note="Khen thưởng đợt sơ kết quý III",
    )


def names(decision: HonourDecision) -> set[str]:
    return {entry.unit_name for entry in decision.entries.all() if entry.honoured}


def test_the_xlsx_has_a_sheet_per_level_block_and_text_that_is_never_a_formula(decision, client: Client) -> None:
    response = client.get(reverse("honours:document", args=[decision.pk, "xlsx"]))
    assert response.status_code == 200
    assert 'filename="Quyet dinh vinh danh 125-QD-TLD.xlsx"' in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames == [
        "Khối liên đoàn lao động tỉnh, t",
        "Khối công đoàn cấp trên trực ti",
        "Khối công đoàn cơ sở",
    ]
    grassroots = list(workbook["Khối công đoàn cơ sở"].iter_rows(values_only=True))
    assert grassroots[0][0] == "Đơn vị được vinh danh – Khối công đoàn cơ sở"
    assert ("Số quyết định", "125/QĐ-TLĐ") in [row[:2] for row in grassroots]
    assert ("Số liệu tính đến", "03/01/2023 09:00") in [row[:2] for row in grassroots]
    header = grassroots.index(("STT", "Cụm thi đua", "Mã đơn vị", "Đơn vị", "Sáng kiến", "Chỉ tiêu của kỳ"))
    rows = grassroots[header + 1 :]
    assert rows == [
        (1, "Toàn khối", "HN-BIA", "Công đoàn Công ty CP Bia Hà Nội", 4, 3),
        (2, "Toàn khối", "THEP-TISCO", "Công đoàn Công ty CP Gang thép Thái Nguyên", 4, 1),
        (3, "Cụm A", "HN-BIA", "Công đoàn Công ty CP Bia Hà Nội", 4, 3),
        (4, "Cụm A", "THEP-TISCO", "Công đoàn Công ty CP Gang thép Thái Nguyên", 4, 1),
        (5, "Cụm B", "CTVN-RANGDONG", FORMULA, 3, 1),
    ]
    formula_cell = next(c for r in workbook["Khối công đoàn cơ sở"].iter_rows() for c in r if c.value == FORMULA)
    assert formula_cell.data_type == "s"


def test_the_pdf_is_an_administrative_decision_with_every_name_and_no_missing_glyph(
    decision, client: Client, caplog
) -> None:
    caplog.set_level(logging.WARNING)
    response = client.get(reverse("honours:document", args=[decision.pk, "pdf"]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(BytesIO(b"".join(response.streaming_content)))
    text = nfc(" ".join(" ".join(page.extract_text().split()) for page in reader.pages))
    for expected in (
        "TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM",
        "Số: 125/QĐ-TLĐ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Hà Nội, ngày 10 tháng 01 năm 2023",
        "QUYẾT ĐỊNH",
        "Quý 3/2022",
        "03/01/2023 09:00",
        "Khen thưởng đợt sơ kết quý III",
        "Nguyễn Đình Khang",
        "Khối công đoàn cơ sở",
    ):
        assert expected in text, expected
    for name in names(decision):
        assert " ".join(nfc(name).split()) in text, name
    assert "\ufffd" not in text
    assert not [r for r in caplog.records if "missing" in r.getMessage().lower() and "glyph" in r.getMessage().lower()]
    # Every character written is one the font carries.
    cmap = TTFont(documents.FONTS / "LiberationSerif-Regular.ttf").getBestCmap()
    written = "".join(names(decision)) + text
    assert [ch for ch in set(written) if not ch.isspace() and ord(ch) not in cmap] == []


def test_a_document_is_built_once_and_only_for_an_issued_decision(decision, client: Client, roles, tree) -> None:
    url = reverse("honours:document", args=[decision.pk, "pdf"])
    assert client.get(url).status_code == 200
    built = documents.path_of(decision, "pdf")
    stamp = built.stat().st_mtime_ns
    assert client.get(url).status_code == 200 and built.stat().st_mtime_ns == stamp
    draft = services.decision_correct(user=roles["national_leadership"], decision=decision)
    assert client.get(reverse("honours:document", args=[draft.pk, "pdf"])).status_code == 404
    assert client.get(reverse("honours:document", args=[decision.pk, "docx"])).status_code == 404
    # While another process builds it, nothing is built twice: the page asks to wait.
    xlsx = documents.path_of(decision, "xlsx")
    with holding_the_lock(xlsx):
        response = client.get(reverse("honours:document", args=[decision.pk, "xlsx"]))
        assert response.status_code == 202 and "đang được chuẩn bị" in response.content.decode()
        assert not xlsx.exists()


@contextmanager
def holding_the_lock(document: Path) -> Iterator[subprocess.Popen]:
    """Another process holding the document's lock, as a builder does; killed at the end."""
    document.parent.mkdir(parents=True, exist_ok=True)
    lock = document.with_name(f".{document.name}.lock")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()


HOLD = (
    "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); "
    "print('locked', flush=True); time.sleep(120)"
)


def test_a_build_that_failed_is_said_instead_of_waited_for(decision, client: Client) -> None:
    """The task marks a failed build (honours.tasks): the page stops reloading and says so."""
    pdf = documents.path_of(decision, "pdf")
    with holding_the_lock(pdf):  # a build under way…
        cache.set(documents.FAILED_KEY.format(pk=decision.pk, kind="pdf"), True, 60)  # …that failed before
        response = client.get(reverse("honours:document", args=[decision.pk, "pdf"]))
    page = response.content.decode()
    assert response.status_code == 503 and "Chưa tạo được tệp của Quyết định 125/QĐ-TLĐ" in page
    assert 'http-equiv="refresh"' not in page


def test_a_builder_that_died_leaves_no_lock_behind(decision) -> None:
    xlsx = documents.path_of(decision, "xlsx")
    with holding_the_lock(xlsx) as holder:
        with pytest.raises(documents.Busy):
            documents.build(decision, "xlsx")
        holder.kill()  # killed mid-build: the system releases its lock
        holder.wait()
        assert documents.build(decision, "xlsx") == xlsx and xlsx.exists()


@pytest.mark.django_db(transaction=True)
def test_a_large_decision_s_documents_are_built_by_a_real_worker(
    celery_worker_process: subprocess.Popen, settings, tree, program, roles
) -> None:
    settings.MEDIA_ROOT = celery_worker_process.media_root  # where the worker writes
    settings.HONOURS_DOCUMENT_INLINE_ROWS = 0  # every decision is large
    user = roles["national_leadership"]
    choice = services.period_of(program, "2022-3", tree["snapshot"])
    draft = services.decision_prepare(user=user, snapshot=tree["snapshot"], choice=choice, scope=tree["units"].root)
    decision = services.decision_issue(
        user=user, decision=draft, number="7/QĐ", signed_on=dt.date(2023, 1, 5), signer="A"
    )
    client = Client()
    url = reverse("honours:document", args=[decision.pk, "pdf"])
    first = client.get(url)
    assert first.status_code == 202 and 'http-equiv="refresh"' in first.content.decode()
    deadline = time.monotonic() + 120
    while (response := client.get(url)).status_code == 202:
        assert time.monotonic() < deadline, "the worker did not build the document"
        time.sleep(0.3)
    assert response.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(b"".join(response.streaming_content))).pages)
    assert "Gang thép Thái Nguyên" in " ".join(nfc(text).split())
    assert Path(documents.path_of(decision, "pdf")).exists()
